// Losses against PyTorch: values and d(sum of loss)/d(logits) from torch autograd, for cross
// entropy (class weights, label smoothing, ignore_index, probability targets), BCE with logits
// (pos_weight, weight, saturated logits) and MSE. Goldens: test/fixtures/optim/losses.json, made by
// scripts/make_optim_goldens.py.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

import { Tensor, tensor, labels } from '../src/graph/tensor.ts';
import * as F from '../src/nn/functional.ts';
import { CrossEntropyLoss, BCEWithLogitsLoss, MSELoss } from '../src/nn/losses.ts';

interface LossCase {
  name: string;
  fn: 'crossEntropy' | 'binaryCrossEntropyWithLogits' | 'mseLoss';
  options: Record<string, unknown>;
  input: number[];
  shape: number[];
  target_kind: 'labels' | 'probs' | 'floats';
  target: number[];
  value: number[];
  value_shape: number[];
  grad: number[];
}

const golden: { cases: LossCase[] } = JSON.parse(readFileSync(new URL('./fixtures/optim/losses.json', import.meta.url), 'utf8'));

function assertClose(actual: ArrayLike<number>, expected: number[], what: string, rtol: number): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  const scale = Math.max(1e-3, ...expected.map(Math.abs));
  for (let i = 0; i < expected.length; i++) {
    const err = Math.abs(actual[i] - expected[i]);
    if (!(err <= rtol * scale)) assert.fail(`${what}[${i}]: ${actual[i]} vs PyTorch ${expected[i]} (error ${err.toExponential(2)})`);
  }
}

function lossOf(c: LossCase, logits: Tensor): Tensor {
  const target = c.target_kind === 'labels' ? labels(c.target) : tensor(Float32Array.from(c.target), c.shape);
  if (c.fn === 'crossEntropy') return F.crossEntropy(logits, target, c.options);
  if (c.fn === 'binaryCrossEntropyWithLogits') return F.binaryCrossEntropyWithLogits(logits, target, c.options);
  return F.mseLoss(logits, target, c.options);
}

// Gradients need the autodiff engine (`loss.backward()`); values are checked without it.
const hasBackward = typeof (Tensor.prototype as { backward?: unknown }).backward === 'function';

for (const c of golden.cases) {
  test(`${c.name}: value and gradient are PyTorch's`, async (t: { skip(message: string): void }) => {
    const logits = tensor(Float32Array.from(c.input), c.shape);
    logits.requiresGrad = true;
    const loss = lossOf(c, logits);
    assert.deepEqual(loss.shape, c.value_shape);
    assertClose(await loss.floats(), c.value, 'loss', 1e-5);
    if (!hasBackward) return t.skip('no autodiff engine: values checked, gradients skipped');
    await (loss.ndim === 0 ? loss : F.sum(loss)).backward();
    const grad = logits.grad as Tensor | null;
    assert.ok(grad, 'backward() filled the gradient of the logits');
    assertClose(await grad.floats(), c.grad, 'd loss / d logits', 1e-5);
  });
}

test('module wrappers give the functional results', async () => {
  const c = golden.cases.find((k) => k.name === 'ce_smoothing_weight_mean')!;
  const logits = tensor(Float32Array.from(c.input), c.shape);
  const ce = new CrossEntropyLoss(c.options as { labelSmoothing: number; weight: number[] });
  assertClose([await ce.forward(logits, labels(c.target)).item()], c.value, 'CrossEntropyLoss', 1e-5);
  const b = golden.cases.find((k) => k.name === 'bce_pos_weight_mean')!;
  const bce = new BCEWithLogitsLoss(b.options as { posWeight: number[] });
  const bl = tensor(Float32Array.from(b.input), b.shape);
  assertClose([await bce.forward(bl, tensor(Float32Array.from(b.target), b.shape)).item()], b.value, 'BCEWithLogitsLoss', 1e-5);
  const m = golden.cases.find((k) => k.name === 'mse_mean')!;
  const mse = new MSELoss();
  assertClose([await mse.forward(tensor(Float32Array.from(m.input), m.shape), tensor(Float32Array.from(m.target), m.shape)).item()], m.value, 'MSELoss', 1e-5);
});

test('class weights may be given as a Tensor, a Float32Array or numbers', async () => {
  const c = golden.cases.find((k) => k.name === 'ce_weight_mean')!;
  const logits = tensor(Float32Array.from(c.input), c.shape);
  const w = c.options.weight as number[];
  for (const weight of [w, Float32Array.from(w), tensor(Float32Array.from(w))]) {
    assertClose([await F.crossEntropy(logits, labels(c.target), { weight }).item()], c.value, 'weighted loss', 1e-5);
  }
});

test('every sample ignored gives NaN for the mean, as PyTorch', async () => {
  const loss = F.crossEntropy(tensor(Float32Array.from([1, 2, 3, 4]), [2, 2]), labels([-100, -100]));
  assert.ok(Number.isNaN(await loss.item()));
});

test('bad labels are refused with their value and position', () => {
  const logits = tensor(new Float32Array(6), [2, 3]);
  assert.throws(() => F.crossEntropy(logits, labels([0, 3])),
    { name: 'RangeError', message: 'Expected class index between 0 and 2 (or ignoreIndex -100) for target[1] of crossEntropy but received 3' });
  assert.throws(() => F.crossEntropy(logits, labels([-1, 0])), /for target\[0\] of crossEntropy but received -1/);
  assert.throws(() => F.crossEntropy(logits, labels([0, 1, 2])), /Expected class indices of shape \[2\] \(one per row of the logits\) for target of crossEntropy but received shape \[3\]/);
  assert.throws(() => F.crossEntropy(logits, labels([0, 1]).reshape(2, 1)), /Expected class indices of shape \[2\]/);
  assert.throws(() => F.crossEntropy(logits, tensor(new Float32Array(4), [2, 2])), /Expected probabilities of shape \[2, 3\] \(like the logits\)/);
  assert.throws(() => F.crossEntropy(tensor(new Float32Array(3), [3]), labels([0])), /Expected float32 logits of shape \[N, C\] for crossEntropy/);
});

test('bad options are refused with the valid range', () => {
  const logits = tensor(new Float32Array(6), [2, 3]);
  const y = labels([0, 1]);
  assert.throws(() => F.crossEntropy(logits, y, { labelSmoothing: 1.5 }), { name: 'RangeError', message: 'Expected number between 0 and 1 for labelSmoothing of crossEntropy but received 1.5 of type number' });
  assert.throws(() => F.crossEntropy(logits, y, { weight: [1, 2] }), /Expected 3 values \(one per class\) for weight of crossEntropy but received 2/);
  assert.throws(() => F.crossEntropy(logits, y, { reduction: 'avg' as 'mean' }), /Expected one of "mean", "sum", "none" for reduction of crossEntropy but received "avg"/);
  assert.throws(() => F.crossEntropy(logits, y, { ignoreIndex: 0.5 }), /Expected integer for ignoreIndex of crossEntropy but received 0.5/);
  assert.throws(() => F.binaryCrossEntropyWithLogits(logits, labels([0, 1])), /Expected float32 targets of shape \[2, 3\] \(like the logits\)/);
  assert.throws(() => F.binaryCrossEntropyWithLogits(logits, tensor(new Float32Array(6), [2, 3]), { posWeight: [1, 2] }), /Expected 3 values \(one per class\) for posWeight/);
  assert.throws(() => F.mseLoss(logits, tensor(new Float32Array(2), [2])), /Expected target of shape \[2, 3\] \(like the input\) for mseLoss but received shape \[2\]/);
  assert.throws(() => new CrossEntropyLoss({ reduction: 'all' as 'sum' }), /for reduction of CrossEntropyLoss but received "all"/);
});

test('label targets computed by an op are refused: the one-hot matrix is built from host values', () => {
  const logits = tensor(new Float32Array(6), [2, 3]);
  const computed = labels([0, 1]).reshape(1, 2).reshape(2);
  assert.throws(() => F.crossEntropy(logits, computed), { name: 'TypeError', message: /Expected class indices with host values \(e.g. labels\(\[...\]\)\) for target of crossEntropy but received the result of an op/ });
});
