import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from '../formats/zip.ts';
import { readRegularFile } from '../data/regular-file.ts';
import { removeStaleTemps, writeFileAtomic } from '../formats/atomic-write.ts';

const MAGIC = 0x31434647; // "GFC1"
const HEADER = 16;

/** graft's feature cache folder: $GRAFT_HOME/features, GRAFT_HOME defaulting to ~/.cache/graft. */
export function defaultFeatureCacheDir(): string {
  const home = process.env.GRAFT_HOME || join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'graft');
  return join(home, 'features');
}

export const sha256 = (data: string | Uint8Array) => createHash('sha256').update(data).digest('hex');

export interface FeatureCacheOptions {
  /**
   * Called once when an entry cannot be written (a full disk, a read-only or missing folder): the
   * cache then stops writing and the run goes on without it, reading what is already there.
   */
  onUnwritable?: (dir: string, error: Error) => void;
}

/**
 * Backbone outputs on disk, one file per (image content, augmented view), in a folder named by
 * everything else that determines them: the backbone's weights, the cut point and the transform.
 * Change any of those and the folder changes, so stale features are never read. Entries are
 * written to a temporary file and renamed into place, and carry their length and CRC-32: a crash
 * or a concurrent run can leave a stray temporary file (the next run removes it), never an entry
 * that reads back corrupt.
 */
export class FeatureCache {
  readonly dir: string;
  /** Why entries are no longer written; null while they are. */
  unwritable: Error | null = null;
  private readonly onUnwritable: FeatureCacheOptions['onUnwritable'];

  constructor(root: string, identity: Record<string, unknown>, opts: FeatureCacheOptions = {}) {
    this.dir = join(root, sha256(JSON.stringify(identity)).slice(0, 24));
    this.onUnwritable = opts.onUnwritable;
  }

  /** Removes the temp files of writers that were killed or ran out of disk before they could. */
  async removeStaleTemps(): Promise<number> {
    const shards = await readdir(this.dir).catch(() => [] as string[]);
    let removed = 0;
    for (const shard of shards) removed += (await removeStaleTemps(join(this.dir, shard))).length;
    return removed;
  }

  private path(contentDigest: string, view: number): string {
    return join(this.dir, contentDigest.slice(0, 2), `${contentDigest.slice(2, 40)}-${view}.f32`);
  }

  /** The stored features, or null when absent or damaged (a damaged entry is removed). */
  async get(contentDigest: string, view: number, length: number): Promise<Float32Array | null> {
    const file = this.path(contentDigest, view);
    let bytes: Buffer;
    try {
      bytes = await readFile(file);
    } catch {
      return null;
    }
    const header = new DataView(bytes.buffer, bytes.byteOffset, Math.min(bytes.length, HEADER));
    const ok = bytes.length === HEADER + length * 4 && header.getUint32(0, true) === MAGIC
      && header.getUint32(4, true) === length && header.getUint32(8, true) === crc32(bytes.subarray(HEADER));
    if (!ok) {
      await rm(file, { force: true });
      return null;
    }
    const out = new Float32Array(length);
    new Uint8Array(out.buffer).set(bytes.subarray(HEADER));
    return out;
  }

  /** Stores features; once a write has failed, does nothing (see `onUnwritable`). */
  async put(contentDigest: string, view: number, features: Float32Array): Promise<void> {
    if (this.unwritable) return;
    try {
      await this.write(contentDigest, view, features);
    } catch (e) {
      if (typeof (e as NodeJS.ErrnoException).code !== 'string') throw e;
      if (this.unwritable) return; // another write in flight failed first
      this.unwritable = e as Error;
      this.onUnwritable?.(this.dir, e as Error);
    }
  }

  private async write(contentDigest: string, view: number, features: Float32Array): Promise<void> {
    const file = this.path(contentDigest, view);
    await mkdir(join(file, '..'), { recursive: true });
    const data = new Uint8Array(features.buffer, features.byteOffset, features.byteLength);
    const header = new DataView(new ArrayBuffer(HEADER));
    header.setUint32(0, MAGIC, true);
    header.setUint32(4, features.length, true);
    header.setUint32(8, crc32(data), true);
    // No fsync per entry: a torn entry fails its length and CRC check on reading and is a miss.
    await writeFileAtomic(file, [new Uint8Array(header.buffer), data], { sync: false });
  }
}

/** SHA-256 of a file's bytes: the cache key of an image, so renamed or moved files still hit. */
export async function fileDigest(path: string): Promise<string> {
  return sha256(await readRegularFile(path));
}
