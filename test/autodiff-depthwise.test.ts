import { test } from 'node:test';
import assert from 'node:assert/strict';
import { F, tensor } from '../src/index.ts';
import { Parameter } from '../src/nn/parameter.ts';
import { depthwiseGradOptions } from '../src/graph/ops/conv.ts';
import { releaseSessions } from '../src/runtime/session.ts';

const values = (n: number, seed: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37 + seed) * 0.5);

/** dW of a depthwise convolution, with the chosen formulation. */
async function depthwiseWeightGrad(reduce: 'conv' | 'matmul', stride: number, padding: number, dilation: number): Promise<Float32Array> {
  const saved = depthwiseGradOptions.reduce;
  depthwiseGradOptions.reduce = reduce;
  try {
    const w = new Parameter(values(6 * 9, 1), [6, 1, 3, 3]);
    const x = tensor(values(2 * 6 * 11 * 9, 2), [2, 6, 11, 9]);
    const y = F.conv2d(x, w, null, { stride, padding, dilation, groups: 6 });
    await F.sum(F.mul(y, tensor(values(y.size, 3), y.shape))).backward();
    return w.grad!.value as Float32Array;
  } finally {
    depthwiseGradOptions.reduce = saved;
    await releaseSessions();
  }
}

for (const [stride, padding, dilation] of [[1, 1, 1], [2, 1, 1], [2, 0, 1], [1, 2, 2], [3, 1, 1]]) {
  test(`depthwise weight gradient: grouped-conv and im2col formulations agree (stride ${stride}, padding ${padding}, dilation ${dilation})`, async () => {
    const a = await depthwiseWeightGrad('conv', stride, padding, dilation);
    const b = await depthwiseWeightGrad('matmul', stride, padding, dilation);
    assert.equal(a.length, b.length);
    for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) <= 1e-5 * Math.max(1, Math.abs(b[i])), `dW[${i}]: ${a[i]} vs ${b[i]}`);
  });
}
