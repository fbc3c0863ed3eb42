import { availableParallelism } from 'node:os';
import { tensor, type Tensor } from '../graph/tensor.ts';
import { currentRuntime } from '../runtime/runtime.ts';
import { DecodeError } from '../data/decode.ts';
import { hashString } from '../data/rng.ts';
import { WorkerPool } from '../data/worker-pool.ts';
import type { Transform } from '../data/transforms/transform.ts';
import type { DatasetSample } from '../data/datasets/dataset.ts';
import type { SkippedFile } from '../data/loader.ts';
import { FeatureCache, fileDigest } from './feature-cache.ts';
import { throwIfAborted } from './abort.ts';

export interface EmbedOptions {
  transform: Transform;
  /** Augmented views per image (1 for a deterministic transform). */
  views: number;
  seed: number;
  cache: FeatureCache | null;
  batchSize?: number;
  /**
   * Runs a pass with fewer views to compute than `batchSize` at that smaller batch, not padded:
   * for a one-off pass, where a padded batch would compute up to `batchSize` images for a few. A
   * worker that embeds shard after shard leaves it off, so that every shard shares one session.
   */
  shrinkSmallPass?: boolean;
  strict?: boolean;
  onSkip?: (s: SkippedFile) => void;
  onProgress?: (done: number, total: number) => void;
  /** Checked between batches: an aborted signal stops the pass with an AbortError. */
  signal?: AbortSignal;
  /**
   * Decoding threads made for `transform`, kept by a caller that embeds many times (a shard
   * worker): starting threads costs more than a small shard's images. By default the pass starts
   * its own and stops them at the end.
   */
  pool?: WorkerPool;
  /**
   * The backbone's feature width when the caller knows it (a shard worker, from its earlier
   * shards): the pass then skips its probe, which decodes one image before the first batch.
   */
  dim?: number;
}

export interface Embeddings {
  /** One [n, dim] matrix per view, rows in sample order. */
  views: Float32Array[];
  dim: number;
  /** 1 where the sample decoded; skipped files keep a zero row that training never reads. */
  usable: Uint8Array;
  skipped: SkippedFile[];
  /** How many (image, view) features came from the cache. */
  cacheHits: number;
}

/**
 * Runs a frozen backbone once per image and view, reading and filling the feature cache. The
 * random draws of view v of an image depend on (seed, v, its content), not on its position, so a
 * cached view stays valid when files are added or reordered.
 */
export async function embed(backbone: (x: Tensor) => Tensor, samples: readonly DatasetSample[], o: EmbedOptions): Promise<Embeddings> {
  const fullBatch = o.batchSize ?? 32;
  const digests = await Promise.all(samples.map((s) => fileDigest(s.path).catch(() => null)));
  const usable = new Uint8Array(samples.length).fill(1);
  const skipped: SkippedFile[] = [];
  const skip = (i: number, reason: string) => {
    if (!usable[i]) return;
    if (o.strict) throw new DecodeError(samples[i].path, reason);
    usable[i] = 0;
    const s = { file: samples[i].path, reason };
    skipped.push(s);
    o.onSkip?.(s);
  };
  digests.forEach((d, i) => { if (d === null) skip(i, 'cannot be read'); });

  let dim = 0;
  const views: Float32Array[] = [];
  const missing: [number, number][] = [];
  let cacheHits = 0;
  // The feature width comes from shape inference on one real input: nothing is run.
  const probeDim = async (): Promise<number> => {
    const x = (await loadRows([[0, firstUsable()]]))[0];
    if (!x) return 0;
    const out = backbone(tensor(x.data, [1, ...x.shape]));
    if (out.ndim !== 2) throw new RangeError(`The backbone should output [N, features] but gives [${out.shape}]`);
    return out.shape[1];
  };
  const firstUsable = () => usable.findIndex((u) => u === 1);

  const pool = o.pool ?? new WorkerPool(Math.max(1, Math.min(2, availableParallelism())), o.transform.spec());
  const loadRows = async (items: [number, number][]) => Promise.all(items.map(async ([v, i]) => {
    try {
      const t = await pool.run(samples[i].path, [o.seed, v, hashString(digests[i]!)]);
      return { data: t.data, shape: [t.channels, t.height, t.width] as const };
    } catch (e) {
      if (!(e instanceof DecodeError)) throw e;
      skip(i, e.reason);
      return null;
    }
  }));

  try {
    if (firstUsable() < 0) return { views: [], dim: 0, usable, skipped, cacheHits };
    dim = o.dim ?? 0;
    while (dim === 0 && firstUsable() >= 0) dim = await probeDim();
    if (dim === 0) return { views: [], dim: 0, usable, skipped, cacheHits };
    for (let v = 0; v < o.views; v++) views.push(new Float32Array(samples.length * dim));
    for (let v = 0; v < o.views; v++) {
      for (let i = 0; i < samples.length; i++) {
        if (!usable[i]) continue;
        const hit = o.cache ? await o.cache.get(digests[i]!, v, dim) : null;
        if (hit) { views[v].set(hit, i * dim); cacheHits++; } else missing.push([v, i]);
      }
    }
    const total = missing.length;
    const batchSize = o.shrinkSmallPass ? Math.max(1, Math.min(fullBatch, total)) : fullBatch;
    let done = 0;
    o.onProgress?.(0, total);
    for (let start = 0; start < missing.length; start += batchSize) {
      throwIfAborted(o.signal, 'Feature extraction');
      const items = missing.slice(start, start + batchSize);
      const rows = await loadRows(items);
      const ok = items.map((it, k) => ({ it, row: rows[k] })).filter((r) => r.row !== null);
      if (ok.length) {
        const [c, h, w] = ok[0].row!.shape;
        const per = c * h * w;
        // Padded to a fixed batch so every call shares one compiled session. The batch is written
        // into a buffer the runtime lends, which goes to the session's thread without a copy.
        const fill = (x: Float32Array) => {
          ok.forEach(({ row }, k) => x.set(row!.data, k * per));
          x.fill(0, ok.length * per);
        };
        const out = await currentRuntime().withFeed([batchSize, c, h, w], fill, (x) => backbone(x).floats());
        if (out.length !== batchSize * dim) throw new RangeError(`The backbone gives ${out.length / batchSize} features per image, not the ${dim} expected`);
        for (let k = 0; k < ok.length; k++) {
          const [v, i] = ok[k].it;
          const feat = out.slice(k * dim, (k + 1) * dim);
          views[v].set(feat, i * dim);
          await o.cache?.put(digests[i]!, v, feat);
        }
      }
      done += items.length;
      o.onProgress?.(done, total);
    }
  } finally {
    if (pool !== o.pool) await pool.close();
  }
  // The same result whether the width was probed or given: a pass where no image decoded has none,
  // and skipped files in sample order, not in the order the decoding threads answered.
  if (!usable.includes(1)) return { views: [], dim: 0, usable, skipped: inSampleOrder(skipped, samples), cacheHits };
  return { views, dim, usable, skipped: inSampleOrder(skipped, samples), cacheHits };
}

function inSampleOrder(skipped: SkippedFile[], samples: readonly DatasetSample[]): SkippedFile[] {
  const at = new Map(samples.map((s, i) => [s.path, i]));
  return skipped.sort((a, b) => at.get(a.file)! - at.get(b.file)!);
}
