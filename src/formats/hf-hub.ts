import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { copyFile, mkdir, rename, symlink, unlink } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { downloadFile } from './download.ts';
import { removeStaleTemps, tempPathBeside, writeFileAtomic } from './atomic-write.ts';

/**
 * A model repository in the Hugging Face cache, the layout huggingface_hub writes:
 * `<cache>/models--<org>--<name>/snapshots/<commit>/<file>` (a relative link to `blobs/<etag>`),
 * with `refs/<revision>` naming the commit a branch or tag stood at when it was downloaded.
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

/** A branch, tag or commit of a repository, checked: one path-safe name (it names a file under refs/). */
export function checkRevision(revision: string): string {
  if (!/^[A-Za-z0-9][\w.-]*$/.test(revision) || revision.includes('..')) {
    throw new RangeError(`Expected a Hugging Face revision (a branch, tag or commit) but received "${revision}"`);
  }
  return revision;
}

const repoFolder = (repo: string, env: NodeJS.ProcessEnv) => join(hubCacheDir(env), `models--${checkRepoId(repo).replace('/', '--')}`);
const COMMIT = /^[0-9a-f]{40}$/;

/** The snapshot of `repo` in the cache that refs/<revision> names (for main without refs, its only one); an error says where it looked. */
export function findHubSnapshot(repo: string, env: NodeJS.ProcessEnv = process.env, revision = 'main'): HubSnapshot {
  const cache = hubCacheDir(env);
  const root = repoFolder(repo, env);
  const snapshots = join(root, 'snapshots');
  const ref = join(root, 'refs', checkRevision(revision));
  const revisions = existsSync(snapshots) ? readdirSync(snapshots) : [];
  const commit = existsSync(ref) ? readFileSync(ref, 'utf8').trim()
    : COMMIT.test(revision) ? revision
      : revision === 'main' && revisions.length === 1 ? revisions[0] : null;
  if (commit === null || !revisions.includes(commit)) {
    const why = revisions.length === 0 ? 'it has no snapshot there' : `refs/${revision} does not name one of its ${revisions.length} snapshots`;
    throw new RangeError(`The Hugging Face model ${repo} is not in the cache ${cache} (${why}); download it there first with huggingface_hub, or point HF_HOME or HF_HUB_CACHE at the cache that holds it`);
  }
  return { repo, dir: join(snapshots, commit), revision: commit };
}

/** huggingface_hub's reading of a boolean variable. */
export function isHubOffline(env: NodeJS.ProcessEnv = process.env): boolean {
  return ['1', 'on', 'yes', 'true'].includes((env.HF_HUB_OFFLINE ?? '').trim().toLowerCase());
}

export function hubEndpoint(env: NodeJS.ProcessEnv = process.env): string {
  return (env.HF_ENDPOINT || 'https://huggingface.co').replace(/\/+$/, '');
}

export interface ResolveHubOptions {
  env?: NodeJS.ProcessEnv;
  /** For tests and proxies; the global fetch by default. */
  fetchImpl?: typeof fetch;
  /** Show a progress bar on stderr; by default only when stderr is a terminal. */
  progress?: boolean;
}

/** The most a file may weigh, by its name: a config is small, weights are not. */
export function hubFileCap(file: string): number {
  return file.endsWith('.json') ? 16 * 2 ** 20 : 64 * 2 ** 30;
}

/**
 * The snapshot of `repo` at `revision` holding all of `files`: from the cache when it has them
 * (no request), else downloaded into it as huggingface_hub does. HF_HUB_OFFLINE refuses the download.
 */
export async function resolveHubSnapshot(repo: string, revision: string, files: readonly string[], opts: ResolveHubOptions = {}): Promise<HubSnapshot> {
  const env = opts.env ?? process.env;
  checkRevision(revision);
  let cached: HubSnapshot | null = null;
  try {
    cached = findHubSnapshot(repo, env, revision);
  } catch {
    // Not there: downloaded below.
  }
  const missing = cached === null ? [...files] : files.filter((f) => !existsSync(join(cached.dir, f)));
  if (cached !== null && missing.length === 0) return cached;
  if (isHubOffline(env)) {
    throw new Error(`HF_HUB_OFFLINE is set, so graft does not download the Hugging Face model ${repo}@${revision}; ${missing.join(' and ')} ${missing.length === 1 ? 'is' : 'are'} not in the cache ${hubCacheDir(env)}. Unset HF_HUB_OFFLINE, or download it there with huggingface_hub`);
  }
  let commit: string | null = null;
  for (const file of files) commit = await downloadHubFile(repo, revision, file, commit, opts);
  const root = repoFolder(repo, env);
  // The ref last, once every file is in the snapshot: a run cut short leaves no ref to an incomplete one.
  if (revision !== commit) {
    await mkdir(join(root, 'refs'), { recursive: true });
    await writeFileAtomic(join(root, 'refs', revision), [Buffer.from(commit!)]);
  }
  return { repo, dir: join(root, 'snapshots', commit!), revision: commit! };
}

const isRedirect = (r: Response) => r.status >= 300 && r.status < 400 && r.headers.has('location');

/** An ETag's value: without W/ and quotes. */
const etagValue = (v: string | null) => v?.trim().replace(/^W\//, '').replace(/^"|"$/g, '') ?? null;

/**
 * One file into the cache: its metadata from a HEAD request that does not follow the hub's
 * redirect to its storage (the commit, the ETag that names the blob and for LFS files is the
 * SHA-256 of the content, the size), then the body from where the hub sends it, hash-checked and
 * written atomically as `blobs/<etag>`, and linked from the commit's snapshot. Returns the commit.
 */
async function downloadHubFile(repo: string, revision: string, file: string, expectedCommit: string | null, opts: ResolveHubOptions): Promise<string> {
  const env = opts.env ?? process.env;
  const fetchImpl = opts.fetchImpl ?? fetch;
  const hint = `Offline? Download ${repo} into the cache ${hubCacheDir(env)} with huggingface_hub, or set HF_ENDPOINT to a mirror.`;
  const url = `${hubEndpoint(env)}/${repo}/resolve/${encodeURIComponent(revision)}/${file}`;
  let head: Response | null = null;
  let at = url;
  // A renamed repository answers with a relative redirect and no commit: followed, as huggingface_hub
  // does. The redirect that carries the commit (to the storage of LFS files) is where the body is.
  for (let hops = 0; hops < 5 && (head === null || (isRedirect(head) && !head.headers.has('x-repo-commit'))); hops++) {
    if (head !== null) at = new URL(head.headers.get('location')!, at).href;
    try {
      head = await fetchImpl(at, { method: 'HEAD', redirect: 'manual', headers: { 'Accept-Encoding': 'identity' } });
    } catch (error) {
      throw new Error(`Could not reach ${at} (${(error as Error).message}). ${hint}`, { cause: error });
    }
  }
  head = head!;
  const redirected = isRedirect(head);
  if (!head.ok && !redirected) {
    const why = head.status === 401 || head.status === 404 ? ` (no such repository or file, or it is private or gated: graft sends no token)` : '';
    throw new Error(`Could not download ${file} of ${repo}@${revision}: ${at} answered HTTP ${head.status}${why}`);
  }
  const commit = head.headers.get('x-repo-commit')?.trim() ?? '';
  const etag = etagValue(head.headers.get('x-linked-etag') ?? head.headers.get('etag')) ?? '';
  if (!COMMIT.test(commit)) throw new Error(`Could not download ${file} of ${repo}: ${at} gave no commit (X-Repo-Commit header) but ${JSON.stringify(commit)}`);
  if (expectedCommit !== null && commit !== expectedCommit) {
    throw new Error(`${repo}@${revision} moved from commit ${expectedCommit} to ${commit} while downloading; run again`);
  }
  if (!/^[\w-]{8,128}$/.test(etag)) throw new Error(`Could not download ${file} of ${repo}: ${at} gave no usable ETag (X-Linked-Etag or ETag header) but ${JSON.stringify(etag)}`);
  const size = Number(head.headers.get('x-linked-size') ?? head.headers.get('content-length') ?? 0);
  const cap = hubFileCap(file);
  if (size > cap) throw new Error(`Refusing to download ${file} of ${repo}: the hub announces ${size} bytes, more than the ${cap} accepted`);

  const root = repoFolder(repo, env);
  const blob = join(root, 'blobs', etag);
  if (!existsSync(blob)) {
    // What a killed download left in blobs/ is never linked from a snapshot; it is only litter.
    await removeStaleTemps(join(root, 'blobs'));
    // A 64-digit ETag is an LFS file's SHA-256; a regular file's is its git hash, not checked here.
    const sha256Prefix = /^[0-9a-f]{64}$/.test(etag) ? etag : undefined;
    const from = redirected ? new URL(head.headers.get('location')!, at).href : at;
    await downloadFile({ url: from, sha256Prefix, maxBytes: cap, label: `${file} of ${repo}`, fetchImpl, progress: opts.progress }, blob, hint);
  }
  await linkIntoSnapshot(blob, join(root, 'snapshots', commit, file));
  return commit;
}

/** `pointer` as a relative link to `blob` (huggingface_hub's layout), or a copy where links fail; in place atomically. */
async function linkIntoSnapshot(blob: string, pointer: string): Promise<void> {
  await mkdir(dirname(pointer), { recursive: true });
  const temp = tempPathBeside(pointer);
  try {
    await symlink(relative(dirname(pointer), blob), temp);
  } catch {
    await copyFile(blob, temp);
  }
  try {
    await rename(temp, pointer);
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw error;
  }
}
