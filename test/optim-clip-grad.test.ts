// clipGradNorm / clipGradValue, as torch.nn.utils.clip_grad_norm_ / clip_grad_value_.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { tensor } from '../src/graph/tensor.ts';
import { Parameter } from '../src/nn/parameter.ts';
import { clipGradNorm, clipGradValue } from '../src/optim/index.ts';

function params(...grads: (number[] | null)[]): Parameter[] {
  return grads.map((g) => {
    const p = new Parameter(new Float32Array(g?.length ?? 1), [g?.length ?? 1]);
    p.grad = g ? tensor(Float32Array.from(g), [g.length]) : null;
    return p;
  });
}
const gradOf = (p: Parameter) => [...(p.grad!.value as Float32Array)];

test('the total norm is over all gradients together; they are scaled by maxNorm / (norm + 1e-6)', () => {
  const ps = params([3, 4], [12], null);
  const total = clipGradNorm(ps, 6.5);
  assert.equal(total, 13);
  const coef = 6.5 / (13 + 1e-6);
  assert.deepEqual(gradOf(ps[0]), [Math.fround(3 * coef), Math.fround(4 * coef)]);
  assert.deepEqual(gradOf(ps[1]), [Math.fround(12 * coef)]);
  assert.equal(ps[2].grad, null);
});

test('gradients within the bound are left alone', () => {
  const ps = params([3, 4]);
  assert.equal(clipGradNorm(ps, 10), 5);
  assert.deepEqual(gradOf(ps[0]), [3, 4]);
});

test('other norms: 1, inf and p', () => {
  assert.equal(clipGradNorm(params([3, -4], [12]), 100, 1), 19);
  assert.equal(clipGradNorm(params([3, -4], [-12]), 100, Infinity), 12);
  assert.ok(Math.abs(clipGradNorm(params([3, -4], [12]), 100, 3) - Math.cbrt(27 + 64 + 1728)) < 1e-12);
});

test('no gradients: total norm 0; non-finite norms are refused on request', () => {
  assert.equal(clipGradNorm(params(null), 1), 0);
  assert.throws(() => clipGradNorm(params([NaN, 1]), 1, 2, { errorIfNonfinite: true }), /The total norm of order 2 of the gradients is NaN/);
  assert.throws(() => clipGradNorm(params([1]), -1), /Expected number >= 0 for maxNorm but received -1/);
});

test('clipGradValue clamps each value', () => {
  const ps = params([-3, 0.5, 2]);
  clipGradValue(ps, 1);
  assert.deepEqual(gradOf(ps[0]), [-1, 0.5, 1]);
});
