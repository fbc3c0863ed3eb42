/**
 * The ceiling under the transformer cases: one fully connected layer, y = x W^T + b, as ONNX
 * Runtime's Gemm kernel runs it with the weight as a constant (how graft's frozen and eval graphs
 * compile every Linear), against PyTorch's `F.linear` on the same shapes and threads. ViT and
 * ConvNeXt spend most of a forward pass in these products (bench/NOTES.md), so graft's forward
 * cannot be much further below PyTorch's than this ratio is.
 *
 *   npm run bench -- --only gemm
 */
import * as ort from 'onnxruntime-node';
import { resolve } from 'node:path';
import { GraphBuilder, int } from '../src/graph/emit.ts';
import { normals } from '../src/nn/init.ts';
import { runPython } from './pytorch.ts';

/** [rows, in, out]: ViT-B/16's MLP and attention projections at batch 16 (197 tokens), ConvNeXt-T's first-stage MLP at batch 16 (56x56). */
export const GEMM_CASES: Record<string, [number, number, number]> = {
  'vit_b_16 mlp fc1': [16 * 197, 768, 3072],
  'vit_b_16 in_proj': [16 * 197, 768, 2304],
  'convnext_tiny stage1 fc1': [16 * 56 * 56, 96, 384],
};

function gemmModel(k: number, n: number): Uint8Array {
  const b = new GraphBuilder();
  b.addInput({ name: 'x', dtype: 'float32', shape: ['rows', k] });
  const weight = b.constant(normals(n * k, 0, 0.02), [n, k]);
  const bias = b.constant(normals(n, 0, 0.02), [n]);
  b.alias(b.node('Gemm', ['x', weight, bias], { transB: int(1) }), 'y');
  b.addOutput({ name: 'y', dtype: 'float32', shape: ['rows', n] });
  return b.serialize();
}

/** Median ms of `runs` runs after one warm-up. */
async function timeGemm(rows: number, k: number, n: number, threads: number, runs = 5): Promise<number> {
  const session = await ort.InferenceSession.create(gemmModel(k, n), { intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: 'all' });
  const x = new ort.Tensor('float32', normals(rows * k, 0, 1), [rows, k]);
  await session.run({ x });
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await session.run({ x });
    times.push(performance.now() - t0);
  }
  await session.release();
  return times.sort((a, b) => a - b)[Math.floor(runs / 2)];
}

/** ms per product for each case, ONNX Runtime and PyTorch taking turns `rounds` times (medians). */
export async function benchGemm(threads: number, rounds: number): Promise<{ case: string; graft: number; pytorch: number | null }[]> {
  const out = [];
  for (const [name, [rows, k, n]] of Object.entries(GEMM_CASES)) {
    const ours: number[] = [];
    const theirs: number[] = [];
    for (let round = 0; round < rounds; round++) {
      ours.push(await timeGemm(rows, k, n, threads));
      const ref = runPython(resolve(import.meta.dirname, 'pytorch_gemm.py'), [String(rows), String(k), String(n), String(threads)]);
      if (ref) theirs.push(ref.ms as number);
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    out.push({ case: `gemm ${name} ${rows}x${k}x${n}`, graft: median(ours), pytorch: theirs.length ? median(theirs) : null });
  }
  return out;
}
