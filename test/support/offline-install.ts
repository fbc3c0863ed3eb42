import { writeFileSync } from 'node:fs';
import { readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..', '..');

/**
 * An empty project in `dir` that depends on the packed graft tarball, with a lockfile, so that
 * `npm ci --offline` installs it without the network: graft's own dependencies are pinned to
 * the versions and integrities of this repository's package-lock.json, whose tarballs the npm
 * cache holds since this repository's own install. `projectFields` go into its package.json.
 */
export function consumerProject(dir: string, tarball: string, projectFields: Record<string, unknown> = {}): void {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8'));
  const spec = `file:${basename(tarball)}`;
  const packages: Record<string, unknown> = {
    '': { name: 'consumer', dependencies: { graft: spec } },
    'node_modules/graft': {
      version: pkg.version, resolved: spec, license: pkg.license, dependencies: pkg.dependencies, bin: pkg.bin, engines: pkg.engines,
    },
  };
  // The repository's entries that are not development-only are graft's dependency tree; its
  // dependencies sit at the same paths under the consumer's node_modules.
  // Entries are given their registry tarball URL where the lockfile omits it, so npm finds each
  // tarball in its cache by URL and integrity without asking the registry for the package list.
  for (const [path, entry] of Object.entries(lock.packages as Record<string, { dev?: boolean; resolved?: string; version?: string; link?: boolean }>)) {
    if (path === '' || entry.dev) continue;
    const name = path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length);
    const tarball = `https://registry.npmjs.org/${name}/-/${name.split('/').pop()}-${entry.version}.tgz`;
    packages[path] = entry.resolved || entry.link || !entry.version ? entry : { ...entry, resolved: tarball };
  }
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify({ name: 'consumer', private: true, type: 'module', dependencies: { graft: spec }, ...projectFields }, null, 2)}\n`);
  writeFileSync(join(dir, 'package-lock.json'), `${JSON.stringify({ name: 'consumer', lockfileVersion: 3, requires: true, packages }, null, 2)}\n`);
}
