import { randomBytes } from 'node:crypto';
import { lstat, open, readdir, rename, rm, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** A fresh name beside `path`, so the final rename stays on one file system and is atomic. */
export function tempPathBeside(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
}

/** `.<name>.<pid>.<8 hex>.tmp`: tempPathBeside's names. */
const TEMP_NAME = /^\..+\.(\d+)\.[0-9a-f]{8}\.tmp$/;

/** Whether `name` is a temp file's name as tempPathBeside makes them. */
export const isTempName = (name: string) => TEMP_NAME.test(name);

/** After a day, a temp file is left over even if its pid now names some other live process. */
const STALE_AFTER_MS = 24 * 3600 * 1000;

/** Whether the process `pid` is running (on this machine). */
export function processAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Whether `name` in `dir` is a temp entry of a writer that is gone: killed, or out of disk
 * before it could clean up. A live writer's temp file (a concurrent run's) is left alone.
 */
export async function isStaleTemp(dir: string, name: string): Promise<boolean> {
  const m = TEMP_NAME.exec(name);
  if (!m) return false;
  if (!processAlive(Number(m[1]))) return true;
  const st = await lstat(join(dir, name)).catch(() => null);
  return st !== null && Date.now() - st.mtimeMs > STALE_AFTER_MS;
}

/** Removes the temp entries writers that are gone left in `dir`; returns their names. */
export async function removeStaleTemps(dir: string): Promise<string[]> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const removed: string[] = [];
  for (const name of names) {
    if (!(await isStaleTemp(dir, name))) continue;
    await rm(join(dir, name), { recursive: true, force: true });
    removed.push(name);
  }
  return removed;
}

const FULL_DISK: Record<string, string> = {
  ENOSPC: 'no space left on the device (ENOSPC)',
  EDQUOT: 'disk quota exceeded (EDQUOT)',
  EFBIG: 'the file would exceed the size limit for files (EFBIG)',
};

/**
 * A system error while writing `path`, reworded to name it: Node's own message for a failed
 * write (`ENOSPC: no space left on device, write`) names no file.
 */
export function writeError(path: string, error: unknown): unknown {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  if (typeof code !== 'string' || !/^E[A-Z]+$/.test(code)) return error;
  const reason = FULL_DISK[code] ?? (error as Error).message;
  return Object.assign(new Error(`Cannot write ${path}: ${reason}`, { cause: error }), { code });
}

export interface AtomicWriteOptions {
  /**
   * Flush the file to disk before the rename (default true), so a crash leaves the old file or
   * the whole new one. Files that check themselves on reading (a length and a checksum) can skip it.
   */
  sync?: boolean;
}

/**
 * Writes a file through `produce`, which calls `write` for each chunk, then renames it into
 * place. If `produce` throws, the temp file is removed and `path` is untouched. A failed write
 * (a full disk) is reported with `path` in the message.
 */
export async function writeStreamAtomic(
  path: string,
  produce: (write: (chunk: Uint8Array) => Promise<void>) => Promise<void>,
  { sync = true }: AtomicWriteOptions = {},
): Promise<void> {
  const temp = tempPathBeside(path);
  const named = <T>(p: Promise<T>) => p.catch((e: unknown) => { throw writeError(path, e); });
  const handle = await named(open(temp, 'wx'));
  try {
    try {
      await produce(async (chunk) => {
        for (let done = 0; done < chunk.length; ) done += (await named(handle.write(chunk, done))).bytesWritten;
      });
      if (sync) await named(handle.sync());
    } finally {
      await handle.close();
    }
    await named(rename(temp, path));
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw error;
  }
}

/** Writes `chunks` to `path` atomically (temp file beside it, then rename). */
export async function writeFileAtomic(path: string, chunks: Iterable<Uint8Array>, options: AtomicWriteOptions = {}): Promise<void> {
  await writeStreamAtomic(path, async (write) => {
    for (const chunk of chunks) await write(chunk);
  }, options);
}
