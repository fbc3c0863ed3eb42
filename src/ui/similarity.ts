import { tensor } from '../graph/tensor.ts';
import { linear } from '../nn/functional.ts';
import type { Runtime } from '../runtime/runtime.ts';

export interface SimilarityOptions {
  /** Neighbours per row. */
  k: number;
  /** Pairs of rows with different labels at or above this cosine similarity are reported. */
  pairThreshold: number;
  /** Rows per matrix product: bounds the memory of one block of similarities (rows x n floats). */
  chunk: number;
  /** Pairs kept at most, the most similar. */
  maxPairs: number;
  runtime: Runtime;
}

export interface SimilarityResult {
  /** For row i, its k nearest other rows (most similar first) at [i * k, (i + 1) * k); -1 where there are fewer. */
  neighbours: Int32Array;
  /** Rows i < j with different labels and similarity >= pairThreshold, most similar first (at most maxPairs). */
  pairs: { a: number; b: number; similarity: number }[];
}

/** Scales each row to unit length in place (a zero row stays zero), so dot products are cosine similarities. */
export function normalizeRows(x: Float32Array, n: number, d: number): Float32Array {
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < d; j++) s += x[i * d + j] ** 2;
    const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
    for (let j = 0; j < d; j++) x[i * d + j] *= inv;
  }
  return x;
}

/**
 * Nearest neighbours by cosine similarity and near-duplicate pairs across labels, for n unit
 * rows of d features. The similarities are computed a block of `chunk` rows at a time as a
 * matrix product run by ONNX Runtime (on the runtime's threads), and each block is scanned and
 * dropped before the next, so memory stays at chunk x n floats whatever n is.
 */
export async function similarity(unit: Float32Array, n: number, d: number, labels: ArrayLike<number>, o: SimilarityOptions): Promise<SimilarityResult> {
  const { k } = o;
  const neighbours = new Int32Array(n * k).fill(-1);
  const best = new Float32Array(n * k).fill(-Infinity);
  const pairs: SimilarityResult['pairs'] = [];
  // As a linear layer's weight: one Gemm against the rows as they are, no transposed copy.
  const all = tensor(unit, [n, d]);
  let threshold = o.pairThreshold;
  const keepPairs = () => {
    pairs.sort((a, b) => b.similarity - a.similarity);
    pairs.length = Math.min(pairs.length, o.maxPairs);
    if (pairs.length === o.maxPairs) threshold = pairs[pairs.length - 1].similarity;
  };
  for (let start = 0; start < n; start += o.chunk) {
    const rows = Math.min(o.chunk, n - start);
    // Every block has the same shape (the last one padded with zero rows), so one compiled session serves them all.
    const block = new Float32Array(o.chunk * d);
    block.set(unit.subarray(start * d, (start + rows) * d));
    const product = linear(tensor(block, [o.chunk, d]), all);
    await o.runtime.realize([product]);
    const sims = product.value as Float32Array;
    for (let r = 0; r < rows; r++) {
      const i = start + r;
      const row = sims.subarray(r * n, (r + 1) * n);
      const nb = neighbours.subarray(i * k, (i + 1) * k);
      const sc = best.subarray(i * k, (i + 1) * k);
      for (let j = 0; j < n; j++) {
        if (j === i) continue;
        const s = row[j];
        if (j > i && s >= threshold && labels[i] !== labels[j]) {
          pairs.push({ a: i, b: j, similarity: s });
          if (pairs.length >= 4 * o.maxPairs) keepPairs();
        }
        if (s <= sc[k - 1]) continue;
        let p = k - 1;
        while (p > 0 && sc[p - 1] < s) {
          sc[p] = sc[p - 1];
          nb[p] = nb[p - 1];
          p--;
        }
        sc[p] = s;
        nb[p] = j;
      }
    }
  }
  keepPairs();
  return { neighbours, pairs };
}
