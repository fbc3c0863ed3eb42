import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * A model repository in the Hugging Face cache, the layout huggingface_hub writes:
 * `<cache>/models--<org>--<name>/snapshots/<revision>/` with `refs/main` naming the revision.
 * The cache is $HF_HUB_CACHE, else $HF_HOME/hub, else ~/.cache/huggingface/hub.
 */
export interface HubSnapshot { repo: string; dir: string; revision: string }

export function hubCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.HF_HUB_CACHE) return env.HF_HUB_CACHE;
  if (env.HF_HOME) return join(env.HF_HOME, 'hub');
  return join(homedir(), '.cache', 'huggingface', 'hub');
}

/** `org/name` of a repository, checked: two path-safe parts. */
export function checkRepoId(repo: string): string {
  if (!/^[A-Za-z0-9][\w.-]*\/[A-Za-z0-9][\w.-]*$/.test(repo) || repo.includes('..')) {
    throw new RangeError(`Expected a Hugging Face repository as <org>/<name> but received "${repo}"`);
  }
  return repo;
}

/** The snapshot of `repo` in the cache that refs/main names (or its only one); an error says where it looked. */
export function findHubSnapshot(repo: string, env: NodeJS.ProcessEnv = process.env): HubSnapshot {
  const cache = hubCacheDir(env);
  const root = join(cache, `models--${checkRepoId(repo).replace('/', '--')}`);
  const snapshots = join(root, 'snapshots');
  const ref = join(root, 'refs', 'main');
  const revisions = existsSync(snapshots) ? readdirSync(snapshots) : [];
  const revision = existsSync(ref) ? readFileSync(ref, 'utf8').trim() : revisions.length === 1 ? revisions[0] : null;
  if (revision === null || !revisions.includes(revision)) {
    const why = revisions.length === 0 ? 'it has no snapshot there' : `refs/main does not name one of its ${revisions.length} snapshots`;
    throw new RangeError(`The Hugging Face model ${repo} is not in the cache ${cache} (${why}); download it there first with huggingface_hub, or point HF_HOME or HF_HUB_CACHE at the cache that holds it`);
  }
  return { repo, dir: join(snapshots, revision), revision };
}
