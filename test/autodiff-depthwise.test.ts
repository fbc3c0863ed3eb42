import { test } from 'node:test';
import assert from 'node:assert/strict';
import { F, tensor } from '../src/index.ts';
import { Parameter } from '../src/nn/parameter.ts';
import { releaseSessions } from '../src/runtime/index.ts';

const values = (n: number, seed: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37 + seed) * 0.5);

/** dW of a depthwise convolution by its definition, in float64. */
function directWeightGrad(x: Float32Array, g: Float32Array, [n, c, h, w]: number[], [oh, ow]: number[], k: number, stride: number, padding: number, dilation: number): Float64Array {
  const dw = new Float64Array(c * k * k);
  for (let b = 0; b < n; b++) for (let ch = 0; ch < c; ch++) for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) {
    let s = 0;
    for (let p = 0; p < oh; p++) for (let q = 0; q < ow; q++) {
      const r = p * stride + i * dilation - padding;
      const col = q * stride + j * dilation - padding;
      if (r >= 0 && r < h && col >= 0 && col < w) s += g[((b * c + ch) * oh + p) * ow + q] * x[((b * c + ch) * h + r) * w + col];
    }
    dw[(ch * k + i) * k + j] += s;
  }
  return dw;
}

// 2x6 planes take the im2col product; 2x16 fill whole blocks and take the blocked form with
// the roles swapped (where ONNX Runtime has blocked kernels). Stride 3 leaves X's last column
// unread: the blocked form's negative end padding.
for (const [n, c] of [[2, 6], [2, 16]]) {
  for (const [stride, padding, dilation] of [[1, 1, 1], [2, 1, 1], [2, 0, 1], [1, 2, 2], [3, 1, 1]]) {
    test(`depthwise weight gradient matches its definition (${n}x${c} planes, stride ${stride}, padding ${padding}, dilation ${dilation})`, async () => {
      try {
        const shape = [n, c, 11, 9];
        const w = new Parameter(values(c * 9, 1), [c, 1, 3, 3]);
        const xv = values(n * c * 11 * 9, 2);
        const y = F.conv2d(tensor(xv, shape), w, null, { stride, padding, dilation, groups: c });
        const gv = values(y.size, 3);
        await F.sum(F.mul(y, tensor(gv, y.shape))).backward();
        const got = w.grad!.value as Float32Array;
        const want = directWeightGrad(xv, gv, shape, y.shape.slice(2), 3, stride, padding, dilation);
        for (let i = 0; i < want.length; i++) assert.ok(Math.abs(got[i] - want[i]) <= 1e-5 * Math.max(1, Math.abs(want[i])), `dW[${i}]: ${got[i]} vs ${want[i]}`);
      } finally {
        await releaseSessions();
      }
    });
  }
}
