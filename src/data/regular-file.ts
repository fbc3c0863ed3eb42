import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { open } from 'node:fs/promises';

/**
 * The largest image file read: above an uncompressed 24-bit image at the decoder's pixel limit
 * (about 537 MB), far below what would exhaust memory when a few are read at once.
 */
export const MAX_IMAGE_FILE_BYTES = 1 << 30;

/**
 * Opening never blocks: a FIFO opened for reading without it waits for a writer forever. Windows
 * has no such flag (and no FIFOs in the file system).
 */
const OPEN_FLAGS = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0);

/** A file that is not a regular file of a readable size: `reason` says which it is. */
export class UnreadableFileError extends Error {
  override name = 'UnreadableFileError';
  constructor(readonly file: string, readonly reason: string) {
    super(`Cannot read ${file}: ${reason}`);
  }
}

/** What of a file's stat is needed here (node:fs Stats has it), so the public types need no Node typings. */
export interface FileStats {
  size: number;
  isFile(): boolean;
  isFIFO(): boolean;
  isCharacterDevice(): boolean;
  isBlockDevice(): boolean;
  isSocket(): boolean;
  isDirectory(): boolean;
}

/** What a file is when it is not a regular file, in words. */
function kindOf(stats: FileStats): string {
  if (stats.isFIFO()) return 'a named pipe (FIFO)';
  if (stats.isCharacterDevice()) return 'a character device (like /dev/zero or /dev/urandom)';
  if (stats.isBlockDevice()) return 'a block device';
  if (stats.isSocket()) return 'a socket';
  if (stats.isDirectory()) return 'a folder';
  return 'a special file';
}

/**
 * Why a file (its stat, symbolic links followed) cannot be read as an image, or null when it can:
 * only regular files are read, since a device or a pipe can produce endless bytes or none, and only
 * up to `maxBytes`.
 */
export function unreadableReason(stats: FileStats, maxBytes = MAX_IMAGE_FILE_BYTES): string | null {
  if (!stats.isFile()) return `not a regular file but ${kindOf(stats)}; only regular files are read`;
  if (stats.size > maxBytes) return `${stats.size} bytes, more than the ${maxBytes}-byte limit for an image file`;
  return null;
}

/**
 * Reads a whole regular file. The check is made on the opened descriptor, so a file swapped for a
 * pipe or a device after a directory scan is refused too, and at most its size then is read.
 */
export async function readRegularFile(file: string, maxBytes = MAX_IMAGE_FILE_BYTES): Promise<Uint8Array> {
  const handle = await open(file, OPEN_FLAGS);
  try {
    const stats = await handle.stat();
    const reason = unreadableReason(stats, maxBytes);
    if (reason) throw new UnreadableFileError(file, reason);
    const bytes = Buffer.allocUnsafeSlow(stats.size);
    let filled = 0;
    while (filled < bytes.length) {
      const { bytesRead } = await handle.read(bytes, filled, bytes.length - filled, filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    return filled === bytes.length ? bytes : bytes.subarray(0, filled);
  } finally {
    await handle.close();
  }
}

/** readRegularFile, blocking: for worker threads, where blocking costs nothing. */
export function readRegularFileSync(file: string, maxBytes = MAX_IMAGE_FILE_BYTES): Uint8Array {
  const fd = openSync(file, OPEN_FLAGS);
  try {
    const stats = fstatSync(fd);
    const reason = unreadableReason(stats, maxBytes);
    if (reason) throw new UnreadableFileError(file, reason);
    const bytes = Buffer.allocUnsafeSlow(stats.size);
    let filled = 0;
    while (filled < bytes.length) {
      const n = readSync(fd, bytes, filled, bytes.length - filled, filled);
      if (n === 0) break;
      filled += n;
    }
    return filled === bytes.length ? bytes : bytes.subarray(0, filled);
  } finally {
    closeSync(fd);
  }
}
