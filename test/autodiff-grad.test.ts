// Every gradient rule, one line per op in the spirit of tinygrad's helper_test_op: the same op on
// the same inputs in graft and in PyTorch (float64 goldens in test/fixtures/grad/ops.json, made by
// scripts/make_grad_goldens.py), forward values and the gradient of every input; and each
// gradient against central finite differences of graft's own float32 forward.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';

import { F, Tensor, tensor } from '../src/index.ts';
import { grad, GradientError } from '../src/autodiff/index.ts';
import { apply } from '../src/graph/op.ts';
import * as ops from '../src/graph/ops/index.ts';
import { realize } from '../src/runtime/index.ts';
import { deterministicInput } from './support/deterministic.ts';
import { normalizeWithBatchStats } from '../src/nn/batchnorm-train.ts';
import { multiHeadSelfAttention, scaledDotProductAttention } from '../src/nn/attention.ts';

type Op = (...xs: Tensor[]) => Tensor;
const oneHot = (labels: number[], classes: number) =>
  tensor(Float32Array.from({ length: labels.length * classes }, (_, i) => (labels[Math.floor(i / classes)] === i % classes ? 1 : 0)), [labels.length, classes]);
// What BatchNorm2d runs in train mode, on plain tensors.
const bnTrain = (x: Tensor, w: Tensor, b: Tensor) => normalizeWithBatchStats(x, w, b, 1e-5).y;

const OPS: Record<string, Op> = {
  add_broadcast: (a, b) => F.add(a, b),
  sub_broadcast: (a, b) => F.sub(a, b),
  mul_broadcast: (a, b) => F.mul(a, b),
  div: (a, b) => F.div(a, b),
  div_broadcast: (a, b) => F.div(a, b),
  neg: (x) => F.neg(x),
  exp: (x) => F.exp(x),
  log: (x) => F.log(x),
  sqrt: (x) => F.sqrt(x),
  abs: (x) => F.abs(x),
  relu: (x) => F.relu(x),
  relu6: (x) => F.relu6(x),
  clamp: (x) => F.clamp(x, -1, 1),
  sigmoid: (x) => F.sigmoid(x),
  hardswish: (x) => F.hardswish(x),
  hardsigmoid: (x) => F.hardsigmoid(x),
  conv2d_3x3: (x, w, b) => F.conv2d(x, w, b, { padding: 1 }),
  conv2d_stride2: (x, w) => F.conv2d(x, w, null, { stride: 2, padding: 1 }),
  conv2d_stride2_even: (x, w) => F.conv2d(x, w, null, { stride: 2, padding: 1 }),
  conv2d_stride2_nopad: (x, w) => F.conv2d(x, w, null, { stride: 2 }),
  conv2d_7x7_stride2: (x, w) => F.conv2d(x, w, null, { stride: 2, padding: 3 }),
  conv2d_1x1: (x, w) => F.conv2d(x, w),
  conv2d_1x1_stride2: (x, w) => F.conv2d(x, w, null, { stride: 2 }),
  conv2d_dilation2: (x, w) => F.conv2d(x, w, null, { padding: 2, dilation: 2 }),
  conv2d_groups2: (x, w) => F.conv2d(x, w, null, { padding: 1, groups: 2 }),
  conv2d_depthwise: (x, w) => F.conv2d(x, w, null, { padding: 1, groups: 4 }),
  conv2d_depthwise_stride2: (x, w) => F.conv2d(x, w, null, { stride: 2, padding: 1, groups: 4 }),
  conv2d_depthwise_multiplier: (x, w) => F.conv2d(x, w, null, { padding: 1, groups: 2 }),
  conv2d_rect: (x, w) => F.conv2d(x, w, null, { stride: [2, 1], padding: [1, 0] }),
  conv2d_7x7_stride2_even: (x, w) => F.conv2d(x, w, null, { stride: 2, padding: 3 }),
  conv2d_1x1_stride2_even: (x, w) => F.conv2d(x, w, null, { stride: 2 }),
  conv2d_groups2_stride2_even: (x, w) => F.conv2d(x, w, null, { stride: 2, padding: 1, groups: 2 }),
  conv2d_depthwise_stride2_even: (x, w) => F.conv2d(x, w, null, { stride: 2, padding: 1, groups: 4 }),
  conv2d_stride2_nopad_even: (x, w) => F.conv2d(x, w, null, { stride: 2 }),
  conv2d_groups8_stride2_even: (x, w) => F.conv2d(x, w, null, { stride: 2, padding: 1, groups: 8 }),
  conv2d_groups4_stride2: (x, w) => F.conv2d(x, w, null, { stride: 2, padding: 1, groups: 4 }),
  conv2d_groups3_widen: (x, w, b) => F.conv2d(x, w, b, { padding: 1, groups: 3 }),
  conv2d_groups4_narrow: (x, w) => F.conv2d(x, w, null, { padding: 1, groups: 4 }),
  conv2d_groups2_1x1: (x, w) => F.conv2d(x, w, null, { groups: 2 }),
  batch_norm_inference: (x, w, b, m, v) => F.batchNorm(x, m, v, w, b, 1e-5),
  batch_norm_train: bnTrain,
  linear: (x, w, b) => F.linear(x, w, b),
  matmul: (a, b) => F.matmul(a, b),
  matmul_batched_broadcast: (a, b) => F.matmul(a, b),
  max_pool2d_3x3_s2_p1: (x) => F.maxPool2d(x, 3, { stride: 2, padding: 1 }),
  max_pool2d_2x2: (x) => F.maxPool2d(x, 2),
  max_pool2d_ceil: (x) => F.maxPool2d(x, 2, { ceilMode: true }),
  relu_max_pool2d: (x) => F.maxPool2d(F.relu(x), 3, { stride: 2, padding: 1 }),
  avg_pool2d_3x3_s2_p1: (x) => F.avgPool2d(x, 3, { stride: 2, padding: 1 }),
  avg_pool2d_no_pad_count: (x) => F.avgPool2d(x, 3, { stride: 2, padding: 1, countIncludePad: false }),
  avg_pool2d_2x2: (x) => F.avgPool2d(x, 2),
  avg_pool2d_ceil: (x) => F.avgPool2d(x, 2, { ceilMode: true }),
  global_avg_pool: (x) => F.adaptiveAvgPool2d(x, 1),
  reshape: (x) => F.reshape(x, [6, 4]),
  flatten: (x) => F.flatten(x, 1),
  transpose: (x) => F.transpose(x, 0, 2),
  permute: (x) => F.permute(x, [1, 2, 0]),
  concat: (a, b, c) => F.cat([a, b, c], 1),
  slice: (x) => F.narrow(x, 1, 2, 3),
  expand: (x) => F.expand(x, [2, 3, 4]),
  sum_all: (x) => F.sum(x),
  sum_axis: (x) => F.sum(x, 1),
  sum_keepdim: (x) => F.sum(x, [0, 2], true),
  mean_axis: (x) => F.mean(x, -1),
  mean_keepdim: (x) => F.mean(x, [1, 2], true),
  softmax: (x) => F.softmax(x, 1),
  softmax_axis0: (x) => F.softmax(x, 0),
  log_softmax: (x) => F.logSoftmax(x, 1),
  cross_entropy_composed: (x) => F.neg(F.mean(F.sum(F.mul(F.logSoftmax(x, 1), oneHot([0, 3, 1, 4], 5)), 1))),
  silu: (x) => F.silu(x),
  max_pool2d_3x3_s2_ceil_even: (x) => F.maxPool2d(x, 3, { stride: 2, ceilMode: true }),
  max_pool2d_3x3_s1_p1_ceil: (x) => F.maxPool2d(x, 3, { stride: 1, padding: 1, ceilMode: true }),
  max_pool2d_2x2_ceil_odd_rect: (x) => F.maxPool2d(x, 2, { stride: 2, ceilMode: true }),
  adaptive_avg_pool2d_6x6_from_3x3: (x) => F.adaptiveAvgPool2d(x, [6, 6]),
  adaptive_avg_pool2d_4x4_from_6x7: (x) => F.adaptiveAvgPool2d(x, [4, 4]),
  concat_many: (...xs) => F.cat(xs, 1),
  channel_shuffle: (x) => F.channelShuffle(x, 2),
  channel_shuffle_groups3: (x) => F.channelShuffle(x, 3),
  conv2d_groups32: (x, w) => F.conv2d(x, w, null, { padding: 1, groups: 32 }),
  conv2d_groups16_stride2: (x, w, b) => F.conv2d(x, w, b, { stride: 2, padding: 1, groups: 16 }),
  gelu: (x) => F.gelu(x),
  erf: (x) => apply(ops.erf, [x], {}),
  layer_norm: (x, w, b) => F.layerNorm(x, [5], w, b, 1e-6),
  layer_norm_2d: (x, w, b) => F.permute(F.layerNorm(F.permute(x, [0, 2, 3, 1]), [4], w, b, 1e-6), [0, 3, 1, 2]),
  linear_4d: (x, w, b) => F.linear(x, w, b),
  layer_scale: (x, s) => F.mul(s, x),
  tanh: (x) => F.tanh(x),
  gelu_tanh: (x) => F.gelu(x, 'tanh'),
  matmul_batched_4d: (a, b) => F.matmul(a, b),
  matmul_broadcast_4d_3d: (a, b) => F.matmul(a, b),
  matmul_batched_3d: (a, b) => F.matmul(a, b),
  softmax_last_4d: (x) => F.softmax(x, -1),
  scaled_dot_product_attention: (q, k, v) => scaledDotProductAttention(q, k, v),
  index_select_repeated: (t) => F.indexSelect(t, [4, 0, 2, 0, 1, 1, 3, 4], [2, 4]),
  roll_2d: (x) => F.roll(F.roll(x, -2, 1), 1, 2),
  normalize_zero_row: (x) => F.normalize(F.mul(x, tensor(Float32Array.of(1, 0, 1), [3, 1])), -1),
  cosine_attention_scores: (q, k, s) => F.mul(F.matmul(F.normalize(q, -1), F.transpose(F.normalize(k, -1), -2, -1)), F.exp(F.clamp(s, -Infinity, Math.log(100)))),
  multi_head_self_attention: (x, wi, bi, wo, bo) => multiHeadSelfAttention(x, wi, bi, wo, bo, 2),
};

interface InputSpec { shape: number[]; seed: number; scale: number; offset: number }
interface OpGolden { name: string; inputs: InputSpec[]; out_shape: number[]; out: number[]; grads: number[][] }

const fixtureUrl = new URL('./fixtures/grad/ops.json', import.meta.url);
const REGENERATE = 'regenerate it with `python3 scripts/make_grad_goldens.py` (needs torch and torchvision 0.14)';
const goldens: OpGolden[] = existsSync(fixtureUrl) ? JSON.parse(readFileSync(fixtureUrl, 'utf8')).ops : [];

function inputValues(spec: InputSpec): Float32Array {
  const raw = deterministicInput(spec.shape, spec.seed);
  return Float32Array.from(raw, (v) => v * spec.scale + spec.offset);
}

/** The weights r of the loss sum(out * r), as the goldens use them. */
function lossWeights(shape: readonly number[]): Float64Array {
  return Float64Array.from(deterministicInput(shape.length ? shape : [1], 999));
}

/** Analytic gradients of sum(op(xs) * r) with respect to every input, and the output, in one run. */
async function analytic(op: Op, values: Float32Array[], shapes: number[][]) {
  const xs = values.map((v, i) => tensor(v, shapes[i]));
  const out = op(...xs);
  const r = tensor(Float32Array.from(lossWeights(out.shape)), out.shape);
  const gs = grad(F.sum(F.mul(out, r)), xs) as Tensor[];
  await realize([out, ...gs]);
  return { out: out.value as Float32Array, grads: gs.map((g) => g.value as Float32Array) };
}

/** sum(op(xs) * r) in float64 on the host from graft's float32 forward. */
async function lossAt(op: Op, values: Float32Array[], shapes: number[][]): Promise<number> {
  const out = op(...values.map((v, i) => tensor(v, shapes[i])));
  const y = await out.floats();
  const r = lossWeights(out.shape);
  let s = 0;
  for (let i = 0; i < y.length; i++) s += y[i] * r[i];
  return s;
}

function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string, rtol: number, atolScale: number): void {
  assert.equal(actual.length, expected.length, `${what}: ${actual.length} values, expected ${expected.length}`);
  let scale = 0;
  for (let i = 0; i < expected.length; i++) scale = Math.max(scale, Math.abs(expected[i]));
  const atol = atolScale * Math.max(scale, 1e-3);
  for (let i = 0; i < expected.length; i++) {
    const diff = Math.abs(actual[i] - expected[i]);
    if (diff > atol + rtol * Math.abs(expected[i])) {
      assert.fail(`${what}[${i}]: got ${actual[i]}, expected ${expected[i]} (|diff| ${diff.toExponential(2)}, scale ${scale.toExponential(2)})`);
    }
  }
}

test('ops.json has a golden for every op case and no stray ones', () => {
  assert.ok(goldens.length > 0, `test/fixtures/grad/ops.json is missing: ${REGENERATE}`);
  assert.deepEqual(goldens.map((g) => g.name).sort(), Object.keys(OPS).sort());
});

for (const golden of goldens) {
  const op = OPS[golden.name];
  if (!op) continue;
  const shapes = golden.inputs.map((s) => s.shape);

  test(`${golden.name}: forward and gradients match PyTorch`, async () => {
    const { out, grads } = await analytic(op, golden.inputs.map(inputValues), shapes);
    assertClose(out, golden.out, `${golden.name} output`, 1e-5, 1e-5);
    grads.forEach((g, i) => assertClose(g, golden.grads[i], `${golden.name} grad of input ${i}`, 1e-4, 1e-5));
  });

  test(`${golden.name}: gradients match central finite differences`, async () => {
    const values = golden.inputs.map(inputValues);
    const { grads } = await analytic(op, values, shapes);
    const eps = 1e-3;
    for (let k = 0; k < values.length; k++) {
      const n = values[k].length;
      // At most 24 elements per input, spread over the tensor: the shapes are small but the runs add up.
      const picks = n <= 24 ? Array.from({ length: n }, (_, i) => i) : Array.from({ length: 24 }, (_, i) => Math.floor((i * n) / 24));
      let checked = 0;
      for (const i of picks) {
        const at = async (delta: number) => {
          const moved = values.map((v) => v.slice());
          moved[k][i] = values[k][i] + delta;
          return lossAt(op, moved, shapes);
        };
        const [lo, mid, hi] = [await at(-eps), await at(0), await at(eps)];
        const left = (mid - lo) / eps;
        const right = (hi - mid) / eps;
        // A kink within eps (relu at 0, a max changing place) has no derivative to compare with.
        if (Math.abs(left - right) > 1e-2 * (1 + Math.abs(left) + Math.abs(right))) continue;
        const central = (hi - lo) / (2 * eps);
        const analyticValue = grads[k][i];
        const tol = 5e-3 * (1 + Math.abs(central));
        assert.ok(Math.abs(analyticValue - central) <= tol,
          `${golden.name} input ${k}[${i}]: analytic ${analyticValue}, finite difference ${central}`);
        checked++;
      }
      assert.ok(checked >= picks.length * 0.75, `${golden.name} input ${k}: only ${checked} of ${picks.length} points were smooth enough to check`);
    }
  });
}

test('the zero-padding op (the gradient of slice) is differentiable too', async () => {
  const x = tensor(Float32Array.from({ length: 6 }, (_, i) => i + 1), [2, 3]);
  const padded = apply(ops.pad, [x], { before: [1, 0], after: [0, 2] });
  assert.deepEqual(padded.shape, [3, 5]);
  const r = tensor(Float32Array.from({ length: 15 }, (_, i) => i), [3, 5]);
  const [g] = grad(F.sum(F.mul(padded, r)), [x]) as Tensor[];
  assert.deepEqual(Array.from(await g.floats()), [5, 6, 7, 10, 11, 12]);
});

test('a missing gradient rule names the op and the module', () => {
  const x = tensor(Float32Array.of(1, 2, 3), [3]);
  assert.throws(() => grad(F.sum(F.amax(x, 0, true)), [x]), (e: unknown) => {
    assert.ok(e instanceof GradientError);
    assert.match((e as Error).message, /^max: no gradient rule for op "max"/);
    return true;
  });
});

test('grad() refuses an input the output does not use, unless allowUnused', () => {
  const x = tensor(Float32Array.of(1, 2), [2]);
  const unused = tensor(Float32Array.of(3), [1]);
  assert.throws(() => grad(F.sum(x), [x, unused]), /Input 1 .* is not used to compute the output/);
  const [gx, gu] = grad(F.sum(x), [x, unused], { allowUnused: true });
  assert.ok(gx);
  assert.equal(gu, null);
});

test('gradients of a tensor used twice are summed', async () => {
  const x = tensor(Float32Array.of(1, 2, 3), [3]);
  const [g] = grad(F.sum(F.add(F.mul(x, x), x)), [x]) as Tensor[];
  assert.deepEqual(Array.from(await g.floats()), [3, 5, 7]);
});

test('relu then a 3x3 stride-2 max pool sends each window to its first maximum, ties and zeros included', async () => {
  // Values from {-1, 0, 1, 2}: windows with several equal positive maxima; in plane 1 the last
  // rows are 0 on the left and -1 on the right, so some windows' maxima are 0 (the gate closes).
  const [n, c, h, w] = [1, 2, 7, 7];
  const values = Float32Array.from({ length: n * c * h * w }, (_, i) => {
    const [plane, row, col] = [Math.floor(i / (h * w)), Math.floor(i / w) % h, i % w];
    if (plane === 1 && row >= 5) return col < 3 ? 0 : -1;
    return [2, 1, 0, -1][(i * 7 + (i >> 3)) % 4] * (i % 5 === 0 ? 0 : 1);
  });
  const x = tensor(values, [n, c, h, w]);
  const out = F.maxPool2d(F.relu(x), 3, { stride: 2, padding: 1 });
  const [oh, ow] = [out.shape[2], out.shape[3]];
  const r = Float32Array.from({ length: n * c * oh * ow }, (_, i) => i + 1);
  const [g] = grad(F.sum(F.mul(out, tensor(r, out.shape))), [x]) as Tensor[];
  // PyTorch's rule: each window scans its rows, then columns, and keeps the first strictly larger
  // value; relu's gradient then passes where its output is positive.
  const expected = new Float32Array(values.length);
  let tied = 0;
  let closed = 0;
  for (let p = 0; p < c; p++) for (let i = 0; i < oh; i++) for (let j = 0; j < ow; j++) {
    let best = -1;
    let ties = 0;
    for (let a = 2 * i - 1; a <= 2 * i + 1; a++) for (let b = 2 * j - 1; b <= 2 * j + 1; b++) {
      if (a < 0 || b < 0 || a >= h || b >= w) continue;
      const at = (p * h + a) * w + b;
      const v = Math.max(values[at], 0);
      if (best < 0 || v > Math.max(values[best], 0)) [best, ties] = [at, 0];
      else if (v === Math.max(values[best], 0)) ties++;
    }
    if (values[best] > 0) {
      expected[best] += r[(p * oh + i) * ow + j];
      if (ties > 0) tied++;
    } else {
      closed++;
    }
  }
  assert.ok(tied > 0 && closed > 0, `the input should have tied positive maxima (${tied}) and closed gates (${closed})`);
  assert.deepEqual(Array.from(await g.floats()), Array.from(expected));
});
