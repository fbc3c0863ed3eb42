import { randomBytes } from 'node:crypto';
import { open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** A fresh name beside `path`, so the final rename stays on one file system and is atomic. */
export function tempPathBeside(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
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
 * place. If `produce` throws, the temp file is removed and `path` is untouched.
 */
export async function writeStreamAtomic(
  path: string,
  produce: (write: (chunk: Uint8Array) => Promise<void>) => Promise<void>,
  { sync = true }: AtomicWriteOptions = {},
): Promise<void> {
  const temp = tempPathBeside(path);
  const handle = await open(temp, 'wx');
  try {
    try {
      await produce(async (chunk) => {
        for (let done = 0; done < chunk.length; ) done += (await handle.write(chunk, done)).bytesWritten;
      });
      if (sync) await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, path);
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
