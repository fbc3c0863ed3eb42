// SGD, Adam and AdamW, each with a scheduler, replaying the gradients PyTorch computed on a small
// linear regression (test/fixtures/optim/trajectories.json, made by scripts/make_optim_goldens.py):
// the parameters after every step, the lrs and the final state dict must be PyTorch's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

import { tensor } from '../src/graph/tensor.ts';
import { Parameter } from '../src/nn/parameter.ts';
import * as optim from '../src/optim/index.ts';

export interface TrajectoryCase {
  name: string;
  optimizer_options: { kind: 'SGD' | 'Adam' | 'AdamW'; groupLr: number } & Record<string, unknown>;
  scheduler: keyof typeof optim.lr_scheduler;
  scheduler_options: Record<string, unknown>;
  x: number[];
  y: number[];
  initial: [number[], number[]];
  steps: { loss: number; grads: [number[], number[]]; params: [number[], number[]]; lrs: number[] }[];
  final_state_dict: { state: Record<string, Record<string, number[] | number | null>>; param_groups: Record<string, unknown>[] };
}

const golden: { cases: TrajectoryCase[] } = JSON.parse(readFileSync(new URL('./fixtures/optim/trajectories.json', import.meta.url), 'utf8'));

/** Allowed difference, relative to the largest magnitude in the vector (parameters near 0 make elementwise relative error meaningless). */
const RTOL = 1e-6;

function assertClose(actual: ArrayLike<number>, expected: number[], what: string, rtol = RTOL): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  const scale = Math.max(1e-3, ...expected.map(Math.abs));
  for (let i = 0; i < expected.length; i++) {
    const err = Math.abs(actual[i] - expected[i]);
    if (!(err <= rtol * scale)) assert.fail(`${what}[${i}]: ${actual[i]} vs PyTorch ${expected[i]} (error ${err.toExponential(2)}, allowed ${(rtol * scale).toExponential(2)})`);
  }
}

function build(c: TrajectoryCase) {
  const weight = new Parameter(Float32Array.from(c.initial[0]), [2, 3]);
  const bias = new Parameter(Float32Array.from(c.initial[1]), [2]);
  const { kind, groupLr, ...options } = c.optimizer_options;
  const groups = [{ params: [weight], lr: groupLr }, { params: [bias] }];
  const optimizer = kind === 'SGD' ? new optim.SGD(groups, options) : kind === 'Adam' ? new optim.Adam(groups, options) : new optim.AdamW(groups, options);
  const Scheduler = optim.lr_scheduler[c.scheduler] as unknown as new (o: optim.Optimizer, opts: unknown) => optim.lr_scheduler.LRScheduler;
  const scheduler = new Scheduler(optimizer, c.scheduler_options);
  return { weight, bias, optimizer, scheduler };
}

for (const c of golden.cases) {
  test(`${c.name}: 10 steps follow PyTorch's trajectory`, () => {
    const { weight, bias, optimizer, scheduler } = build(c);
    c.steps.forEach((step, k) => {
      weight.grad = tensor(Float32Array.from(step.grads[0]), [2, 3]);
      bias.grad = tensor(Float32Array.from(step.grads[1]), [2]);
      const versions = [weight.version, bias.version];
      optimizer.step();
      scheduler.step();
      assert.ok(weight.version > versions[0] && bias.version > versions[1], 'step() bumps the parameters\' versions');
      assertClose(weight.value as Float32Array, step.params[0], `step ${k + 1} weight`);
      assertClose(bias.value as Float32Array, step.params[1], `step ${k + 1} bias`);
      assertClose(scheduler.getLastLr(), step.lrs, `step ${k + 1} lrs`, 1e-12);
    });
  });

  test(`${c.name}: the state dict has PyTorch's layout and values`, () => {
    const { weight, bias, optimizer, scheduler } = build(c);
    for (const step of c.steps) {
      weight.grad = tensor(Float32Array.from(step.grads[0]), [2, 3]);
      bias.grad = tensor(Float32Array.from(step.grads[1]), [2]);
      optimizer.step();
      scheduler.step();
    }
    const ours = optimizer.stateDict();
    const theirs = c.final_state_dict;
    assert.deepEqual(Object.keys(ours.state), Object.keys(theirs.state));
    for (const [index, entry] of Object.entries(theirs.state)) {
      assert.deepEqual(Object.keys(ours.state[index]).sort(), Object.keys(entry).sort(), `state[${index}] keys`);
      for (const [key, value] of Object.entries(entry)) {
        const mine = ours.state[index][key];
        if (Array.isArray(value)) assertClose(mine as Float32Array, value, `state[${index}].${key}`, 1e-5);
        else assert.equal(mine, value, `state[${index}].${key}`);
      }
    }
    assert.equal(ours.param_groups.length, theirs.param_groups.length);
    ours.param_groups.forEach((group, g) => {
      for (const [key, value] of Object.entries(group)) {
        assert.ok(key in theirs.param_groups[g], `PyTorch's param_groups[${g}] has no "${key}"`);
        const expected = theirs.param_groups[g][key];
        if (typeof value === 'number') assert.ok(Math.abs(value - (expected as number)) <= 1e-12 * Math.abs(expected as number), `param_groups[${g}].${key}: ${value} vs ${expected}`);
        else assert.deepEqual(value, expected, `param_groups[${g}].${key}`);
      }
      const missing = Object.keys(theirs.param_groups[g]).filter((k) => !(k in group) && !['foreach', 'capturable', 'differentiable', 'fused'].includes(k));
      assert.deepEqual(missing, [], `param_groups[${g}] lacks PyTorch's keys`);
    });
  });

  test(`${c.name}: a state dict saved half-way resumes the same trajectory`, () => {
    const first = build(c);
    const half = c.steps.length / 2;
    const feed = (w: Parameter, b: Parameter, k: number) => {
      w.grad = tensor(Float32Array.from(c.steps[k].grads[0]), [2, 3]);
      b.grad = tensor(Float32Array.from(c.steps[k].grads[1]), [2]);
    };
    for (let k = 0; k < half; k++) {
      feed(first.weight, first.bias, k);
      first.optimizer.step();
      first.scheduler.step();
    }
    const saved = JSON.parse(JSON.stringify({
      optimizer: first.optimizer.stateDict(), scheduler: first.scheduler.stateDict(),
    }, (_, v) => (v instanceof Float32Array ? Array.from(v) : v)));
    const second = build(c);
    second.weight.assign(Float32Array.from(first.weight.value as Float32Array));
    second.bias.assign(Float32Array.from(first.bias.value as Float32Array));
    second.optimizer.loadStateDict(saved.optimizer);
    second.scheduler.loadStateDict(saved.scheduler);
    for (let k = half; k < c.steps.length; k++) {
      feed(second.weight, second.bias, k);
      second.optimizer.step();
      second.scheduler.step();
      assertClose(second.weight.value as Float32Array, c.steps[k].params[0], `resumed step ${k + 1} weight`);
      assertClose(second.bias.value as Float32Array, c.steps[k].params[1], `resumed step ${k + 1} bias`);
      assertClose(second.scheduler.getLastLr(), c.steps[k].lrs, `resumed step ${k + 1} lrs`, 1e-12);
    }
  });
}
