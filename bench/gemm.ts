/**
 * The ceiling under the transformer cases: one fully connected layer, y = x W^T + b, as ONNX
 * Runtime's Gemm kernel runs it with the weight as a constant (how graft's frozen and eval graphs
 * compile every Linear), against PyTorch's `F.linear` on the same shapes and threads. ViT and
 * ConvNeXt spend most of a forward pass in these products (bench/NOTES.md), so graft's forward
 * cannot be much further below PyTorch's than this ratio is.
 *
 * Kernel against kernel: ONNX Runtime's own timing of the Gemm node (its profiler), and PyTorch's
 * product into a preallocated output. Timing `session.run` instead would add the copy of the output
 * into a JavaScript buffer (38 MB for the first shape), which a product inside a model never pays.
 *
 *   npm run bench -- --only gemm
 */
import * as ort from 'onnxruntime-node';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { profiledRuns } from '../src/formats/step-memory.ts';
import { GraphBuilder, int } from '../src/graph/emit.ts';
import { normals } from '../src/nn/init.ts';
import { runPython } from './pytorch.ts';
import { median } from './median.ts';

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

/** Median ms of the Gemm kernel over `runs` runs after one warm-up, as ONNX Runtime's profiler times it. */
async function timeGemm(rows: number, k: number, n: number, threads: number, runs = 5): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'graft-gemm-'));
  try {
    const session = await ort.InferenceSession.create(gemmModel(k, n), {
      intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: 'all', enableProfiling: true, profileFilePrefix: join(dir, 'gemm'),
    });
    const x = new ort.Tensor('float32', normals(rows * k, 0, 1), [rows, k]);
    for (let i = 0; i <= runs; i++) await session.run({ x });
    session.endProfiling();
    await session.release();
    return median(profiledRuns(dir).runs.slice(1).map(({ nodes }) => nodes.filter((e) => e.args?.op_name === 'Gemm').reduce((sum, e) => sum + e.dur / 1000, 0)));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
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
    out.push({ case: `gemm ${name} ${rows}x${k}x${n}`, graft: median(ours), pytorch: theirs.length ? median(theirs) : null });
  }
  return out;
}
