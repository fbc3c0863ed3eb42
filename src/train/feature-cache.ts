import { createHash } from 'node:crypto';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from '../formats/zip.ts';
import { readRegularFile } from '../data/regular-file.ts';
import { writeFileAtomic } from '../formats/atomic-write.ts';

const MAGIC = 0x31434647; // "GFC1"
const HEADER = 16;

/** graft's feature cache folder: $GRAFT_HOME/features, GRAFT_HOME defaulting to ~/.cache/graft. */
export function defaultFeatureCacheDir(): string {
  const home = process.env.GRAFT_HOME || join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'graft');
  return join(home, 'features');
}

export const sha256 = (data: string | Uint8Array) => createHash('sha256').update(data).digest('hex');

/**
 * Backbone outputs on disk, one file per (image content, augmented view), in a folder named by
 * everything else that determines them: the backbone's weights, the cut point and the transform.
 * Change any of those and the folder changes, so stale features are never read. Entries are
 * written to a temporary file and renamed into place, and carry their length and CRC-32: a crash
 * or a concurrent run can leave a stray temporary file, never an entry that reads back corrupt.
 */
export class FeatureCache {
  readonly dir: string;

  constructor(root: string, identity: Record<string, unknown>) {
    this.dir = join(root, sha256(JSON.stringify(identity)).slice(0, 24));
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

  async put(contentDigest: string, view: number, features: Float32Array): Promise<void> {
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
