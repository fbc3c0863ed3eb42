import type { Module } from '../nn/module.ts';
import { tensor } from '../graph/tensor.ts';
import * as F from '../nn/functional.ts';
import { decodeImage } from '../data/decode.ts';
import type { Transform } from '../data/transforms/transform.ts';
import type { ImageTensor } from '../data/image.ts';

export interface TopK { index: number; label: string; prob: number }
export interface Prediction { file: string; top: TopK[]; error?: string }

export interface PredictOptions {
  /** Eval preprocessing ending in ToTensor/Normalize (e.g. `evalPreset(weights.preprocessing)`). */
  transform: Transform;
  /** Class names by index; indices without a name are printed as numbers. */
  labels: readonly string[];
  topk?: number;
  batchSize?: number;
}

/** The k largest entries of one row, largest first. */
export function topK(row: Float32Array, k: number, labels: readonly string[]): TopK[] {
  const idx = Array.from(row.keys()).sort((a, b) => row[b] - row[a]).slice(0, k);
  return idx.map((i) => ({ index: i, label: labels[i] ?? String(i), prob: row[i] }));
}

async function load(file: string, transform: Transform): Promise<ImageTensor> {
  const out = transform.apply(await decodeImage(file));
  if (out.kind !== 'tensor') throw new TypeError('the predict transform must end with ToTensor (and Normalize)');
  return out;
}

/**
 * Classifies image files with an eval-mode model. Files that cannot be decoded get an `error`
 * and no prediction; the others are batched. Every batch is padded to the same size so all of
 * them share one compiled session (padding rows are discarded; eval mode makes rows independent).
 */
export async function predictFiles(model: Module, files: readonly string[], opts: PredictOptions): Promise<Prediction[]> {
  const topk = opts.topk ?? 5;
  const batchSize = Math.min(opts.batchSize ?? 16, Math.max(1, files.length));
  model.eval();
  const results: Prediction[] = [];
  for (let start = 0; start < files.length; start += batchSize) {
    const chunk = files.slice(start, start + batchSize);
    const loaded = await Promise.all(chunk.map((f) => load(f, opts.transform).then((t) => ({ t }), (e: Error) => ({ e }))));
    const ok = loaded.flatMap((r, i) => ('t' in r ? [{ file: chunk[i], t: r.t }] : []));
    if (ok.length) {
      const { channels, height, width } = ok[0].t;
      const per = channels * height * width;
      const batch = new Float32Array(batchSize * per);
      ok.forEach(({ file, t }, i) => {
        if (t.data.length !== per) throw new RangeError(`${file}: preprocessed to ${t.channels}x${t.height}x${t.width}, expected ${channels}x${height}x${width}`);
        batch.set(t.data, i * per);
      });
      const probs = await F.softmax(model.forward(tensor(batch, [batchSize, channels, height, width])), 1).floats();
      const classes = probs.length / batchSize;
      ok.forEach(({ file }, i) => results.push({ file, top: topK(probs.subarray(i * classes, (i + 1) * classes), topk, opts.labels) }));
    }
    loaded.forEach((r, i) => { if ('e' in r) results.push({ file: chunk[i], top: [], error: r.e.message }); });
  }
  const order = new Map(files.map((f, i) => [f, i]));
  return results.sort((a, b) => order.get(a.file)! - order.get(b.file)!);
}
