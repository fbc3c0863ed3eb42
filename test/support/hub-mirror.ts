/**
 * A Hugging Face hub mirror on a local node:http server, with the hub's URL layout and headers,
 * serving one timm checkpoint (its config.json and a model.safetensors of deterministic weights):
 *
 *   HEAD|GET /<org>/<name>/resolve/<revision>/config.json        200, ETag: the git blob hash
 *   HEAD|GET /<org>/<name>/resolve/<revision>/model.safetensors  302 to /lfs/<sha256>, X-Linked-Etag: the SHA-256
 *   GET /lfs/<sha256>                                            200, the body
 *
 * both /resolve/ answers carrying X-Repo-Commit. Revisions are main, the tag v1.0 and the commit.
 * The repository's old name (`<org>/<name>-old`) answers with a relative redirect to the new one
 * and no commit, as the hub does for a renamed repository.
 * `corrupt` flips a byte of the served weights (same length); `announce` overrides the size
 * the hub claims for them.
 */
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { writeSafetensors } from '../../src/formats/safetensors.ts';
import { deterministicStateDict } from './deterministic.ts';

export const MIRROR_COMMIT = 'fedcba9876543210fedcba9876543210fedcba98';

export interface HubMirror {
  endpoint: string;
  /** `METHOD path` of every request, in order. */
  requests: string[];
  weights: Buffer;
  weightsSha256: string;
  corrupt: boolean;
  announce: number | null;
  close(): Promise<void>;
}

export async function startHubMirror(repo: string, config: unknown, keys: readonly (readonly [string, readonly number[]])[]): Promise<HubMirror> {
  const tmp = mkdtempSync(join(tmpdir(), 'graft-hub-mirror-'));
  await writeSafetensors(join(tmp, 'model.safetensors'), deterministicStateDict(keys));
  const weights = readFileSync(join(tmp, 'model.safetensors'));
  rmSync(tmp, { recursive: true, force: true });
  const configBody = Buffer.from(JSON.stringify(config));
  const gitHash = createHash('sha1').update(`blob ${configBody.length}\0`).update(configBody).digest('hex');
  const weightsSha256 = createHash('sha256').update(weights).digest('hex');
  const revisions = new Set(['main', 'v1.0', MIRROR_COMMIT]);

  const server = createServer((req, res) => {
    mirror.requests.push(`${req.method} ${req.url}`);
    const url = new URL(req.url!, 'http://mirror');
    const resolve = /^\/(.+)\/resolve\/([^/]+)\/([^/]+)$/.exec(url.pathname);
    const send = (status: number, headers: Record<string, string | number>, body?: Buffer) => {
      res.writeHead(status, body ? { ...headers, 'Content-Length': body.length } : headers);
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    if (resolve) {
      const [, r, revision, file] = resolve;
      if (r === `${repo}-old`) return send(307, { Location: `/${repo}/resolve/${revision}/${file}` }, Buffer.from('Temporary Redirect'));
      if (r !== repo) return send(401, { 'X-Error-Code': 'RepoNotFound' }, Buffer.from('Repository not found'));
      if (!revisions.has(decodeURIComponent(revision))) return send(404, { 'X-Error-Code': 'RevisionNotFound' }, Buffer.from('Invalid rev id'));
      const common = { 'X-Repo-Commit': MIRROR_COMMIT };
      if (file === 'config.json') return send(200, { ...common, ETag: `"${gitHash}"`, 'Content-Type': 'application/json' }, configBody);
      if (file === 'model.safetensors') {
        return send(302, {
          ...common, Location: `${mirror.endpoint}/lfs/${weightsSha256}`, ETag: `W/"${gitHash.slice(0, 20)}"`,
          'X-Linked-Etag': `"${weightsSha256}"`, 'X-Linked-Size': mirror.announce ?? weights.length,
        }, Buffer.from(`Found. Redirecting to ${mirror.endpoint}/lfs/${weightsSha256}`));
      }
      return send(404, { ...common, 'X-Error-Code': 'EntryNotFound' }, Buffer.from('Entry not found'));
    }
    if (url.pathname === `/lfs/${weightsSha256}` && req.method === 'GET') {
      const body = Buffer.from(weights);
      if (mirror.corrupt) body[body.length - 1] ^= 0xff;
      return send(200, { 'Content-Type': 'application/octet-stream' }, body);
    }
    send(404, {}, Buffer.from('Not found'));
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const mirror: HubMirror = {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests: [], weights, weightsSha256, corrupt: false, announce: null,
    close: () => new Promise((ok) => { server.closeAllConnections(); server.close(() => ok()); }),
  };
  return mirror;
}
