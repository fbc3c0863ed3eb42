/**
 * The whole-model gradient goldens of scripts/make_grad_goldens.py (test/fixtures/grad/<arch>.json)
 * and how a gradient is compared with them: through a summary (sums, sum of squares, first values).
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';

import { nn, type Tensor } from '../../src/index.ts';
import { zeroGrad } from '../../src/runtime/index.ts';

export interface Summary { sum: number; sum_abs: number; sum_sq: number; max_abs: number; first: number[] }
export interface Run {
  losses: number[];
  grads: Record<string, Summary>;
  bn_after_steps: Record<string, { running_mean: Summary; running_var: Summary; num_batches_tracked: number }>;
}
export interface ModelGradGolden extends Run {
  arch: string; input_shape: number[]; loss_seed: number; lr: number; steps: number;
  /** PyTorch's own float32 run: how far float32 can honestly be from the float64 reference. */
  float32: Run;
  /**
   * float64 runs on inputs each moved by up to `perturbation` of itself (networks that amplify
   * rounding): how far any float32 run can scatter from the reference there.
   */
  perturbed?: Run[];
  perturbation?: number;
}

export const RTOL = 1e-4;

export function loadGradGolden(arch: string): ModelGradGolden {
  const url = new URL(`../fixtures/grad/${arch}.json`, import.meta.url);
  if (!existsSync(url)) assert.fail(`test/fixtures/grad/${arch}.json is missing: regenerate it with \`python3 scripts/make_grad_goldens.py ${arch}\``);
  return JSON.parse(readFileSync(url, 'utf8')) as ModelGradGolden;
}

export function summarize(v: Float32Array): Summary {
  let sum = 0, sumAbs = 0, sumSq = 0, maxAbs = 0;
  for (const x of v) { sum += x; sumAbs += Math.abs(x); sumSq += x * x; maxAbs = Math.max(maxAbs, Math.abs(x)); }
  return { sum, sum_abs: sumAbs, sum_sq: sumSq, max_abs: maxAbs, first: Array.from(v.slice(0, 8)) };
}

/**
 * Sums against the sum of magnitudes, squares relatively, values against the largest magnitude,
 * within RTOL or 3x PyTorch's own float32 distance from float64 on the same tensor (`f32`),
 * whichever is larger; `floor` is an absolute tolerance for gradients that are zero in exact
 * arithmetic. The rule of test/autodiff-models.test.ts. `scatter` (the golden's perturbed runs
 * of the same tensor) counts as float32's distance too.
 */
export function assertSummary(got: Summary, want: Summary, f32: Summary, what: string, floor = 0, scatter: Summary[] = []): void {
  const quantities: [string, number, number, number, number][] = [
    ['sum', got.sum, want.sum, f32.sum, want.sum_abs],
    ['sum of squares', got.sum_sq, want.sum_sq, f32.sum_sq, want.sum_sq],
    ...got.first.map((v, i): [string, number, number, number, number] => [`value ${i}`, v, want.first[i], f32.first[i], want.max_abs]),
  ];
  const others = (label: string): number[] => scatter.map((s) =>
    label === 'sum' ? s.sum : label === 'sum of squares' ? s.sum_sq : s.first[Number(label.slice('value '.length))]);
  const noise = Math.max(...quantities.map(([label, , b, b32, scale]) =>
    (scale > 0 ? Math.max(...[b32, ...others(label)].map((o) => Math.abs(o - b))) / scale : 0)));
  const rtol = Math.max(RTOL, 3 * noise);
  for (const [label, a, b, b32, scale] of quantities) {
    const tol = Math.max(rtol * scale, label === 'sum of squares' ? floor * floor : floor);
    assert.ok(Math.abs(a - b) <= tol, `${what} ${label}: graft ${a}, PyTorch ${b} (float32 PyTorch ${b32}, tolerance ${tol.toExponential(2)})`);
  }
}

/**
 * One train-mode step of `m` (its weights and mode set by the caller) against `golden`: the loss
 * `lossOf` computes, every parameter's gradient, and every batch norm's running statistics.
 */
export async function assertTrainStep(arch: string, m: nn.Module, golden: ModelGradGolden, lossOf: () => Tensor): Promise<void> {
  const params = new Map(m.namedParameters());
  assert.deepEqual([...params.keys()].sort(), Object.keys(golden.grads).sort(), `${arch}: parameter names`);
  zeroGrad(params.values());
  const loss = lossOf();
  await loss.backward();
  const l = await loss.item();
  const perturbed = golden.perturbed ?? [];
  const lossNoise = Math.max(...[golden.float32, ...perturbed].map((run) => Math.abs(run.losses[0] - golden.losses[0])));
  const lossTol = Math.max(RTOL * Math.max(1, Math.abs(golden.losses[0])), 3 * lossNoise);
  assert.ok(Math.abs(l - golden.losses[0]) <= lossTol, `${arch} loss: graft ${l}, PyTorch ${golden.losses[0]}`);
  const floor = 1e-6 * Math.max(...Object.values(golden.grads).map((g) => g.max_abs));
  for (const [name, p] of params) {
    assert.ok(p.grad, `${arch}: ${name} has no gradient`);
    assertSummary(summarize(p.grad.value as Float32Array), golden.grads[name], golden.float32.grads[name], `${arch} grad of ${name}`, floor, perturbed.map((run) => run.grads[name]));
  }
  for (const [name, sub] of m.namedModules()) {
    if (!(sub instanceof nn.BatchNorm2d)) continue;
    const want = golden.bn_after_steps[name];
    const want32 = golden.float32.bn_after_steps[name];
    assert.ok(want, `${arch}: no golden for batch norm ${name}`);
    const others = perturbed.map((run) => run.bn_after_steps[name]);
    assertSummary(summarize(sub.running_mean.value as Float32Array), want.running_mean, want32.running_mean, `${arch} ${name}.running_mean`, 0, others.map((o) => o.running_mean));
    assertSummary(summarize(sub.running_var.value as Float32Array), want.running_var, want32.running_var, `${arch} ${name}.running_var`, 0, others.map((o) => o.running_var));
    assert.equal(Number((sub.num_batches_tracked.value as BigInt64Array)[0]), want.num_batches_tracked, `${arch} ${name}.num_batches_tracked`);
  }
}
