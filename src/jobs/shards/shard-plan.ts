import { readRegularFile } from '../../data/regular-file.ts';
import { sha256 } from '../../train/feature-cache.ts';
import type { ShardItem } from './shard-task.ts';

/** Shard I of N (from 0), as an array job's index gives it. */
export interface ShardSelector { index: number; count: number }

/** "I/N" with 0 <= I < N, as `--shard` takes it. */
export function parseShardSelector(text: string): ShardSelector {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  const index = m ? Number(m[1]) : NaN;
  const count = m ? Number(m[2]) : NaN;
  if (!m || count < 1 || index >= count) {
    throw new RangeError(`Expected I/N with 0 <= I < N (shard I of N, counted from 0) for --shard but received ${JSON.stringify(text)}`);
  }
  return { index, count };
}

/**
 * Whether a shard belongs to selector's slice: by its name, a hash, so the slices are as even as
 * chance makes them and do not move when the list is reordered.
 */
export function inSlice(shard: string, selector: ShardSelector | null): boolean {
  return selector === null || parseInt(shard.slice(0, 8), 16) % selector.count === selector.index;
}

/**
 * Cuts `items` into shards of `size` in order, each named by a hash of `identity` (the model
 * digest and every setting that changes the output) and its items: the same shard planned twice,
 * on any machine, gets the same name, and any change gives a new one.
 */
export function planShards<T extends ShardItem>(items: readonly T[], size: number, identity: unknown): { shard: string; start: number; items: T[] }[] {
  const shards = [];
  for (let start = 0; start < items.length; start += size) {
    const chunk = items.slice(start, start + size);
    const shard = sha256(JSON.stringify({ identity, items: chunk.map((i) => [i.file, i.sha256]) })).slice(0, 32);
    shards.push({ shard, start, items: chunk });
  }
  return shards;
}

/** SHA-256 of each file (null where it cannot be read), a few files at a time. */
export async function digestFiles(files: readonly string[], parallel = 16): Promise<(string | null)[]> {
  const out = new Array<string | null>(files.length);
  for (let start = 0; start < files.length; start += parallel) {
    await Promise.all(files.slice(start, start + parallel).map(async (f, k) => {
      out[start + k] = await readRegularFile(f).then((b) => sha256(b), () => null);
    }));
  }
  return out;
}

/** Throws naming the first file whose bytes are no longer those the shard was planned with. */
export async function checkUnchanged(items: readonly ShardItem[]): Promise<void> {
  const now = await digestFiles(items.map((i) => i.file));
  items.forEach((it, i) => {
    if (now[i] !== it.sha256) throw new Error(`${it.file} changed after its shard was planned (SHA-256 ${it.sha256?.slice(0, 12) ?? 'unreadable'} then, ${now[i]?.slice(0, 12) ?? 'unreadable'} now); plan the run again`);
  });
}
