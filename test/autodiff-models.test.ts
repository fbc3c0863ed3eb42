// Whole-network training behaviour against PyTorch: gradients of every parameter of resnet18,
// mobilenet_v2, shufflenet_v2_x0_5, convnext_tiny, efficientnet_b0 and efficientnet_v2_s in train
// mode (batch norm on batch statistics), running statistics after the golden's SGD steps (three;
// one for shufflenet; goldens from
// scripts/make_grad_goldens.py, float64), plus the engine's promises:
// frozen weights stay bit-identical, frozen batch norm stays in inference mode, dropout masks are
// fed as data, and the compiled training graph is reused between steps.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';

import { F, models, nn, tensor, manualSeed, type Tensor } from '../src/index.ts';
import { zeroGrad } from '../src/runtime/index.ts';
import { cachedSessionCount, releaseSessions } from '../src/runtime/index.ts';
import type { StateDict } from '../src/nn/state-dict.ts';
import { deterministicInput, deterministicStateDict } from './support/deterministic.ts';

interface Summary { sum: number; sum_abs: number; sum_sq: number; max_abs: number; first: number[] }
interface Run {
  losses: number[];
  grads: Record<string, Summary>;
  bn_after_steps: Record<string, { running_mean: Summary; running_var: Summary; num_batches_tracked: number }>;
}
interface ModelGolden extends Run {
  arch: string; input_shape: number[]; loss_seed: number; lr: number; steps: number;
  /** PyTorch's own float32 run: how far float32 can honestly be from the float64 reference. */
  float32: Run;
}

const REGENERATE = 'regenerate it with `python3 scripts/make_grad_goldens.py` (needs torch and torchvision 0.14)';
const RTOL = 1e-4;

function loadGolden(arch: string): ModelGolden {
  const url = new URL(`./fixtures/grad/${arch}.json`, import.meta.url);
  if (!existsSync(url)) assert.fail(`test/fixtures/grad/${arch}.json is missing: ${REGENERATE}`);
  return JSON.parse(readFileSync(url, 'utf8')) as ModelGolden;
}

type Net = nn.Module & { forward(x: Tensor): Tensor };
/** One network per family (its golden is test/fixtures/grad/<arch>.json): ConvNeXt has layer norm and no batch norm, EfficientNetV2 its fused blocks. */
const ARCHS = ['resnet18', 'mobilenet_v2', 'shufflenet_v2_x0_5', 'convnext_tiny', 'efficientnet_b0', 'efficientnet_v2_s'] as const;
type ModelArch = typeof ARCHS[number];

async function deterministicModel(arch: ModelArch): Promise<Net> {
  const m = (await models[arch]()) as unknown as Net;
  const keys: [string, number[]][] = [...m.stateDict()].map(([k, v]) => [k, [...v.shape]]);
  m.loadStateDict(deterministicStateDict(keys) as StateDict);
  m.train();
  // Dropout and stochastic depth stay off so both sides are deterministic; their training forms are tested below.
  for (const sub of m.modules()) if (sub instanceof nn.Dropout || sub instanceof nn.StochasticDepth) sub.training = false;
  return m;
}

function summarize(v: Float32Array): Summary {
  let sum = 0, sumAbs = 0, sumSq = 0, maxAbs = 0;
  for (const x of v) { sum += x; sumAbs += Math.abs(x); sumSq += x * x; maxAbs = Math.max(maxAbs, Math.abs(x)); }
  return { sum, sum_abs: sumAbs, sum_sq: sumSq, max_abs: maxAbs, first: Array.from(v.slice(0, 8)) };
}

/**
 * Sums against the sum of magnitudes, squares relatively, values against the largest magnitude.
 * The relative tolerance is RTOL, or 3x the largest relative distance of PyTorch's own float32 run
 * from float64 on the same tensor (`f32`) when that is larger: float32 training of a deep
 * network with batch statistics amplifies rounding, and graft can only be as exact as float32.
 * `floor` is an absolute tolerance for gradients that are zero in exact arithmetic (a batch norm's
 * bias feeding another batch norm): float noise on both sides.
 */
function assertSummary(got: Summary, want: Summary, f32: Summary, what: string, floor = 0): void {
  const quantities: [string, number, number, number, number][] = [
    ['sum', got.sum, want.sum, f32.sum, want.sum_abs],
    ['sum of squares', got.sum_sq, want.sum_sq, f32.sum_sq, want.sum_sq],
    ...got.first.map((v, i): [string, number, number, number, number] => [`value ${i}`, v, want.first[i], f32.first[i], want.max_abs]),
  ];
  const noise = Math.max(...quantities.map(([, , b, b32, scale]) => (scale > 0 ? Math.abs(b32 - b) / scale : 0)));
  const rtol = Math.max(RTOL, 3 * noise);
  for (const [label, a, b, b32, scale] of quantities) {
    const tol = Math.max(rtol * scale, label === 'sum of squares' ? floor * floor : floor);
    assert.ok(Math.abs(a - b) <= tol, `${what} ${label}: graft ${a}, PyTorch ${b} (float32 PyTorch ${b32}, tolerance ${tol.toExponential(2)})`);
  }
}

async function sgdSteps(m: Net, golden: ModelGolden, onFirst: (params: Map<string, nn.Parameter>) => void): Promise<number[]> {
  const x = tensor(deterministicInput(golden.input_shape), golden.input_shape);
  const r = tensor(deterministicInput([golden.input_shape[0], 1000], golden.loss_seed), [golden.input_shape[0], 1000]);
  const params = new Map(m.namedParameters());
  const losses: number[] = [];
  for (let step = 0; step < golden.steps; step++) {
    zeroGrad(params.values());
    const loss = F.sum(F.mul(m.forward(x), r));
    await loss.backward();
    losses.push(await loss.item());
    if (step === 0) onFirst(params);
    for (const p of params.values()) {
      const w = p.value as Float32Array;
      const g = p.grad!.value as Float32Array;
      const next = new Float32Array(w.length);
      for (let i = 0; i < w.length; i++) next[i] = w[i] - golden.lr * g[i];
      p.assign(next);
    }
  }
  return losses;
}

for (const arch of ARCHS) {
  test(`${arch}: parameter gradients and running statistics after its SGD steps match PyTorch`, async () => {
    const golden = loadGolden(arch);
    const m = await deterministicModel(arch);
    const losses = await sgdSteps(m, golden, (params) => {
      assert.deepEqual([...params.keys()].sort(), Object.keys(golden.grads).sort(), `${arch}: parameter names`);
      const floor = 1e-6 * Math.max(...Object.values(golden.grads).map((g) => g.max_abs));
      for (const [name, p] of params) {
        assert.ok(p.grad, `${arch}: ${name} has no gradient`);
        assertSummary(summarize(p.grad.value as Float32Array), golden.grads[name], golden.float32.grads[name], `${arch} grad of ${name}`, floor);
      }
    });
    losses.forEach((l, i) => {
      const tol = Math.max(RTOL * Math.max(1, Math.abs(golden.losses[i])), 3 * Math.abs(golden.float32.losses[i] - golden.losses[i]));
      assert.ok(Math.abs(l - golden.losses[i]) <= tol, `${arch} loss at step ${i}: graft ${l}, PyTorch ${golden.losses[i]}`);
    });
    for (const [name, sub] of m.namedModules()) {
      if (!(sub instanceof nn.BatchNorm2d)) continue;
      const want = golden.bn_after_steps[name];
      const want32 = golden.float32.bn_after_steps[name];
      assert.ok(want, `${arch}: no golden for batch norm ${name}`);
      assertSummary(summarize(sub.running_mean.value as Float32Array), want.running_mean, want32.running_mean, `${arch} ${name}.running_mean`);
      assertSummary(summarize(sub.running_var.value as Float32Array), want.running_var, want32.running_var, `${arch} ${name}.running_var`);
      assert.equal(Number((sub.num_batches_tracked.value as BigInt64Array)[0]), want.num_batches_tracked, `${arch} ${name}.num_batches_tracked`);
    }
  });
}

/** A small network with a frozen trunk (conv, batch norm) and a trainable head. */
class Small extends nn.Module {
  conv = new nn.Conv2d(3, 4, 3, { padding: 1 });
  bn = new nn.BatchNorm2d(4);
  pool = new nn.AdaptiveAvgPool2d(1);
  dropout = new nn.Dropout(0.5);
  fc = new nn.Linear(4, 3);
  forward(x: Tensor): Tensor {
    const y = this.pool.forward(F.relu(this.bn.forward(this.conv.forward(x))));
    return this.fc.forward(this.dropout.forward(F.flatten(y, 1)));
  }
}

const smallInput = (n = 2) => tensor(deterministicInput([n, 3, 8, 8], 5), [n, 3, 8, 8]);
const lossOf = (m: Small, x: Tensor) => F.sum(F.mul(m.forward(x), tensor(deterministicInput([x.shape[0], 3], 6), [x.shape[0], 3])));

async function step(m: Small, x: Tensor, lr = 0.1): Promise<void> {
  const params = [...m.parameters()].filter((p) => p.requiresGrad);
  zeroGrad(params);
  await lossOf(m, x).backward();
  for (const p of params) {
    const w = p.value as Float32Array;
    const g = p.grad!.value as Float32Array;
    p.assign(Float32Array.from(w, (v, i) => v - lr * g[i]));
  }
}

test('frozen weights stay bit-identical and frozen batch norm stays in inference mode', async () => {
  manualSeed(1);
  const m = new Small().train();
  m.conv.requiresGrad_(false);
  m.bn.requiresGrad_(false);
  const frozen = [m.conv.weight, m.conv.bias!, m.bn.weight, m.bn.bias, m.bn.running_mean, m.bn.running_var];
  const before = frozen.map((t) => (t.value as Float32Array).slice());
  const head = (m.fc.weight.value as Float32Array).slice();
  for (let i = 0; i < 3; i++) await step(m, smallInput());
  frozen.forEach((t, i) => assert.deepEqual(t.value, before[i], `frozen tensor ${i} changed`));
  assert.equal(m.conv.weight.grad, null, 'a frozen weight got a gradient');
  assert.equal((m.bn.num_batches_tracked.value as BigInt64Array)[0], 0n);
  assert.notDeepEqual(m.fc.weight.value, head, 'the head did not train');
});

test('trackFrozenStats updates a frozen batch norm\'s running statistics as PyTorch does, weights untouched', async () => {
  manualSeed(2);
  const m = new Small().train();
  m.conv.requiresGrad_(false);
  m.bn.requiresGrad_(false);
  m.bn.trackFrozenStats = true;
  const weight = (m.bn.weight.value as Float32Array).slice();
  await step(m, smallInput());
  assert.equal((m.bn.num_batches_tracked.value as BigInt64Array)[0], 1n);
  assert.notDeepEqual(Array.from(m.bn.running_mean.value as Float32Array), [0, 0, 0, 0]);
  assert.deepEqual(m.bn.weight.value, weight);
});

test('backward() accumulates into .grad until zeroGrad', async () => {
  manualSeed(3);
  const m = new Small().eval();
  const x = smallInput();
  await lossOf(m, x).backward();
  const once = (m.fc.weight.grad!.value as Float32Array).slice();
  await lossOf(m, x).backward();
  const twice = m.fc.weight.grad!.value as Float32Array;
  once.forEach((v, i) => assert.ok(Math.abs(twice[i] - 2 * v) <= 1e-6 * (1 + Math.abs(v)), `grad[${i}]: ${twice[i]} vs 2 x ${v}`));
  zeroGrad(m.parameters());
  assert.equal(m.fc.weight.grad, null);
});

test('backward() needs a scalar and something to differentiate', async () => {
  const m = new Small().eval();
  await assert.rejects(m.forward(smallInput()).backward(), /needs a scalar loss, but this one has shape \[2,3\]/);
  m.requiresGrad_(false);
  await assert.rejects(lossOf(m, smallInput()).backward(), /does not depend on any tensor that requires grad/);
});

test('the training graph compiles once per signature: reused between steps, rebuilt when the trainable set or shapes change', async () => {
  await releaseSessions();
  manualSeed(4);
  const m = new Small().train();
  m.conv.requiresGrad_(false);
  for (let i = 0; i < 3; i++) await step(m, smallInput());
  assert.equal(cachedSessionCount(), 1, 'steps with the same signature should share one session');
  m.conv.requiresGrad_(true);
  await step(m, smallInput());
  await step(m, smallInput());
  assert.equal(cachedSessionCount(), 2, 'unfreezing the conv should compile one new session');
  await step(m, smallInput(3));
  assert.equal(cachedSessionCount(), 3, 'a new batch size should compile one new session');
});

test('dropout in train mode draws a seeded Bernoulli mask scaled by 1/(1-p), fed as data', async () => {
  const x = tensor(new Float32Array(4000).fill(1), [4000]);
  manualSeed(7);
  const a = await F.dropout(x, 0.25, true).floats();
  manualSeed(7);
  const b = await F.dropout(x, 0.25, true).floats();
  assert.deepEqual(a, b, 'same seed, same mask');
  const kept = a.filter((v) => v !== 0);
  assert.ok(kept.every((v) => Math.abs(v - 4 / 3) < 1e-6), 'kept values are scaled by 1/(1-p)');
  assert.ok(Math.abs(kept.length / 4000 - 0.75) < 0.03, `kept ${kept.length} of 4000`);
  assert.equal(F.dropout(x, 0.25, false), x, 'eval mode is the identity');
  // Gradient flows through the same mask.
  const { grad } = await import('../src/autodiff/index.ts');
  const y = tensor(Float32Array.of(1, 2, 3, 4), [4]);
  const d = F.dropout(y, 0.5, true);
  const [g] = grad(F.sum(d), [y]) as Tensor[];
  const [dv, gv] = [await d.floats(), await g.floats()];
  gv.forEach((v, i) => assert.equal(v, dv[i] / (i + 1)));
});

test('stochastic depth in train mode keeps or drops each sample whole, seeded, scaled by 1/(1-p); eval is the identity', async () => {
  const [n, c] = [400, 6];
  const x = tensor(new Float32Array(n * c).fill(1), [n, c, 1, 1]);
  manualSeed(11);
  const a = await F.stochasticDepth(x, 0.25, 'row', true).floats();
  manualSeed(11);
  const b = await F.stochasticDepth(x, 0.25, 'row', true).floats();
  assert.deepEqual(a, b, 'same seed, same mask');
  let kept = 0;
  for (let i = 0; i < n; i++) {
    const row = a.slice(i * c, (i + 1) * c);
    assert.ok(row.every((v) => v === row[0]), `sample ${i} is partly dropped`);
    assert.ok(row[0] === 0 || Math.abs(row[0] - 4 / 3) < 1e-6, `sample ${i}: ${row[0]}`);
    if (row[0] !== 0) kept++;
  }
  assert.ok(Math.abs(kept / n - 0.75) < 0.08, `kept ${kept} of ${n}`);
  const batch = await F.stochasticDepth(x, 0.5, 'batch', true).floats();
  assert.ok(batch.every((v) => v === batch[0]), "'batch' mode keeps or drops the whole batch");
  assert.equal(F.stochasticDepth(x, 0.25, 'row', false), x, 'eval mode is the identity');
  const sd = new nn.StochasticDepth(0.25, 'row').eval();
  assert.equal(sd.forward(x), x);
  assert.throws(() => new nn.StochasticDepth(0.25, 'col' as 'row'), /mode/);
});

