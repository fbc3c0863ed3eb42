// Train-mode batch norm is one ONNX Runtime node that writes the batch statistics into buffers of
// its own (ops/batchnorm.ts). These check that layers of the same width in one graph keep their
// statistics apart, and that a batch of NaNs leaves nothing behind in the session for the next.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { F, nn, tensor } from '../src/index.ts';
import { Parameter } from '../src/nn/parameter.ts';
import { releaseSessions } from '../src/runtime/index.ts';

const values = (n: number, seed: number, scale = 1, offset = 0) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37 + seed) * scale + offset);

/** Per-channel mean and biased variance of an (N, C, H, W) array, in float64. */
function stats(x: Float32Array, [n, c, h, w]: number[]) {
  const mean = new Float64Array(c);
  const variance = new Float64Array(c);
  for (let ch = 0; ch < c; ch++) {
    let s = 0;
    for (let b = 0; b < n; b++) for (let i = 0; i < h * w; i++) s += x[(b * c + ch) * h * w + i];
    mean[ch] = s / (n * h * w);
    let q = 0;
    for (let b = 0; b < n; b++) for (let i = 0; i < h * w; i++) q += (x[(b * c + ch) * h * w + i] - mean[ch]) ** 2;
    variance[ch] = q / (n * h * w);
  }
  return { mean, variance };
}

test('two batch norms of the same width in one graph keep their own batch statistics', async () => {
  try {
    const shape = [2, 4, 3, 3];
    const a = new nn.BatchNorm2d(4);
    const b = new nn.BatchNorm2d(4);
    a.train();
    b.train();
    const xa = values(72, 1, 2, 3);
    const xb = values(72, 2, 0.5, -1);
    await F.add(F.sum(a.forward(tensor(xa, shape))), F.sum(b.forward(tensor(xb, shape)))).item();
    for (const [bn, x] of [[a, xa], [b, xb]] as const) {
      const { mean, variance } = stats(x, shape);
      const runMean = bn.running_mean.value as Float32Array;
      const runVar = bn.running_var.value as Float32Array;
      for (let ch = 0; ch < 4; ch++) {
        assert.ok(Math.abs(runMean[ch] - 0.1 * mean[ch]) < 1e-6, `running mean ${runMean[ch]} vs ${0.1 * mean[ch]}`);
        assert.ok(Math.abs(runVar[ch] - (0.9 + 0.1 * variance[ch] * 18 / 17)) < 1e-6, `running var ${runVar[ch]}`);
      }
    }
  } finally {
    await releaseSessions();
  }
});

test('a batch of NaNs does not poison the gradients of the next batch in the same session', async () => {
  try {
    const shape = [2, 3, 2, 2];
    const w = new Parameter(values(3, 3, 0.5, 1), [3]);
    const bias = new Parameter(values(3, 4), [3]);
    const grad = async (x: Float32Array) => {
      w.grad = null;
      const bn = new nn.BatchNorm2d(3);
      bn.weight = w;
      bn.bias = bias;
      bn.train();
      await F.sum(F.mul(bn.forward(tensor(x, shape)), tensor(values(24, 5), shape))).backward();
      return Array.from(w.grad!.value as Float32Array);
    };
    const clean = values(24, 6, 2, 1);
    const before = await grad(clean);
    assert.ok(before.every(Number.isFinite));
    const poisoned = clean.slice();
    poisoned[5] = NaN;
    await grad(poisoned);
    assert.deepEqual(await grad(clean), before);
  } finally {
    await releaseSessions();
  }
});
