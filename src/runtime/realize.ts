import * as ort from 'onnxruntime-node';
import type { Tensor, TensorData } from '../graph/tensor.ts';
import { compile, inputName, outputName, trace } from '../graph/trace.ts';
import { sessionFor } from './session.ts';

function toOrt(t: Tensor): ort.Tensor {
  return new ort.Tensor(t.dtype, t.value as TensorData, t.shape as number[]);
}

/**
 * Computes the targets in one run: traces what they need, compiles it to ONNX (or reuses the
 * session compiled for the same graph signature), feeds the leaves and stores the results.
 */
export async function realize(targets: readonly Tensor[]): Promise<void> {
  const pending = [...new Set(targets)].filter((t) => t.value === null);
  if (pending.length === 0) return;
  const tr = trace(pending);
  const session = await sessionFor(tr.signature, () => compile(tr));
  const feeds: Record<string, ort.Tensor> = {};
  tr.feeds.forEach((t, i) => {
    if (t.value === null) throw new Error(`Internal: leaf ${t} has no value to feed`);
    feeds[inputName(i)] = toOrt(t);
  });
  const results = await session.run(feeds);
  pending.forEach((t, i) => {
    t.value = results[outputName(i)].data as TensorData;
  });
}
