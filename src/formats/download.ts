/**
 * Where weights files come from: graft's cache, then PyTorch's (so files PyTorch users already
 * have are reused), then the network. A file lands in a cache only complete and verified: it is
 * written beside its final name and renamed into place, so a cut connection or a hash mismatch
 * leaves nothing behind that a later run could mistake for the real file.
 */
import { createHash } from 'node:crypto';
import { access, mkdir } from 'node:fs/promises';
import { homedir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { invalidParameter } from '../errors/index.ts';
import { writeStreamAtomic } from './atomic-write.ts';

export interface ResolveWeightsOptions {
  url: string;
  /** The cached file's name; by default the URL's last path segment. */
  fileName?: string;
  /**
   * Leading hex digits of the file's SHA-256. By default the ones torchvision puts in file names
   * (`resnet18-f37072fd.pth`); none found means no check.
   */
  sha256Prefix?: string;
  /** graft's cache folder; by default `$GRAFT_HOME/checkpoints`, GRAFT_HOME defaulting to ~/.cache/graft. */
  cacheDir?: string;
  /** PyTorch's home; its cache is `<torchHome>/hub/checkpoints`. By default $TORCH_HOME or ~/.cache/torch. */
  torchHome?: string;
  /** For tests and proxies; the global fetch by default. */
  fetchImpl?: typeof fetch;
  /** Show a progress bar on stderr; by default only when stderr is a terminal. */
  progress?: boolean;
}

function cacheHome(): string {
  return process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
}

export function defaultGraftCacheDir(): string {
  return join(process.env.GRAFT_HOME || join(cacheHome(), 'graft'), 'checkpoints');
}

export function defaultTorchCacheDir(torchHome?: string): string {
  return join(torchHome || process.env.TORCH_HOME || join(cacheHome(), 'torch'), 'hub', 'checkpoints');
}

/** torch.hub's rule: the hex digits between the last "-" and the extension. */
export function hashPrefixFromFileName(fileName: string): string | undefined {
  return /-([a-f0-9]+)\.[^.]+$/.exec(fileName)?.[1];
}

/** The local path of a weights file, downloading it into graft's cache if no cache has it. */
export async function resolveWeights(options: ResolveWeightsOptions): Promise<string> {
  const fileName = options.fileName ?? basename(new URL(options.url).pathname);
  if (!fileName || fileName.includes('/') || fileName.includes('\\')) {
    throw invalidParameter(`the weights of ${options.url}`, 'a plain file name', fileName);
  }
  const graftDir = options.cacheDir ?? defaultGraftCacheDir();
  const torchDir = defaultTorchCacheDir(options.torchHome);
  for (const dir of [graftDir, torchDir]) {
    const candidate = join(dir, fileName);
    if (await exists(candidate)) return candidate;
  }
  const target = join(graftDir, fileName);
  const sha256Prefix = options.sha256Prefix ?? hashPrefixFromFileName(fileName);
  await downloadFile({ ...options, sha256Prefix }, target, `Offline? Put ${fileName} in ${graftDir} or ${torchDir}.`);
  return target;
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

/** One download: where from, how it is checked, how it is shown. */
export interface DownloadOptions {
  url: string;
  /** Leading hex digits of the body's SHA-256 (all 64 for a full check); none means no check. */
  sha256Prefix?: string;
  /** The most bytes accepted: a larger Content-Length is refused before reading, a longer body cut off. */
  maxBytes?: number;
  /** What messages and the progress bar call the file; the target's name by default. */
  label?: string;
  fetchImpl?: typeof fetch;
  progress?: boolean;
}

/**
 * Downloads `url` to `target` atomically (a temp file beside it, renamed into place only when the
 * body is complete, within maxBytes, and its hash matches), following redirects. `hint` ends the
 * messages of failures (what to do offline).
 */
export async function downloadFile(options: DownloadOptions, target: string, hint: string): Promise<void> {
  const { url } = options;
  const label = options.label ?? basename(target);
  const what = options.label ? `${options.label} from ${url}` : url;
  const fetchImpl = options.fetchImpl ?? fetch;
  let response: Response;
  try {
    response = await fetchImpl(url);
  } catch (error) {
    throw new Error(`Could not download ${url} (${reason(error)}). ${hint}`, { cause: error });
  }
  if (!response.ok || !response.body) {
    throw new Error(`Could not download ${url} (HTTP ${response.status} ${response.statusText}). ${hint}`);
  }
  const expected = options.sha256Prefix?.toLowerCase();
  const total = Number(response.headers.get('content-length')) || 0;
  const max = options.maxBytes ?? Infinity;
  if (total > max) {
    await response.body.cancel().catch(() => undefined);
    throw new Error(`Refusing to download ${what}: the server announces ${total} bytes, more than the ${max} accepted`);
  }
  await mkdir(dirname(target), { recursive: true });
  await writeStreamAtomic(target, async (write) => {
    const hash = createHash('sha256');
    const bar = await progressBar(options.progress, total, label);
    let received = 0;
    try {
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        received += chunk.length;
        if (received > max || (total && received > total)) break;
        hash.update(chunk);
        await write(chunk);
        bar?.update(received);
      }
    } catch (error) {
      throw new Error(`Could not download ${url}: the connection broke after ${received} bytes (${reason(error)}). ${hint}`, { cause: error });
    } finally {
      bar?.stop();
    }
    if (received > max) throw new Error(`Refusing to download ${what}: its body runs past the ${max} bytes accepted; the file was not kept`);
    if (total && received !== total) {
      throw new Error(`Could not download ${url}: received ${received} of ${total} bytes. ${hint}`);
    }
    const actual = hash.digest('hex');
    if (expected && !actual.startsWith(expected)) {
      throw new Error(`Downloaded ${what} but its SHA-256 starts with ${actual.slice(0, expected.length)}, expected ${expected}; the file was not kept`);
    }
  });
}

function reason(error: unknown): string {
  const e = error as { message?: string; cause?: { code?: string; message?: string } };
  const cause = e?.cause?.code ?? e?.cause?.message;
  return cause ? `${e.message}: ${cause}` : String(e?.message ?? error);
}

interface Bar {
  update(value: number): void;
  stop(): void;
}

async function progressBar(wanted: boolean | undefined, total: number, label: string): Promise<Bar | undefined> {
  if (!(wanted ?? process.stderr.isTTY)) return undefined;
  // Loaded only when shown: reading weights never pulls in the terminal UI.
  const { default: progress } = await import('cli-progress');
  const bar = new progress.SingleBar(
    {
      stream: process.stderr,
      format: `${label} [{bar}] {percentage}% | {value}/{total} bytes | ETA {eta}s`,
      hideCursor: true,
      // Asked for explicitly (progress: true) on a pipe or log file: still report, less often.
      noTTYOutput: !process.stderr.isTTY,
    },
    progress.Presets.shades_classic,
  );
  bar.start(total, 0);
  return bar;
}
