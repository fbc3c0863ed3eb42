// Training end to end: the regression loss computed by graft, its gradients from `loss.backward()`,
// then the optimizer and scheduler, for 10 steps; the losses and parameters must follow PyTorch's
// (test/fixtures/optim/trajectories.json, made by scripts/make_optim_goldens.py).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

import { Tensor, tensor } from '../src/graph/tensor.ts';
import { Parameter } from '../src/nn/parameter.ts';
import * as F from '../src/nn/functional.ts';
import * as optim from '../src/optim/index.ts';
import type { TrajectoryCase } from './optim-trajectories.test.ts';

const golden: { cases: TrajectoryCase[] } = JSON.parse(readFileSync(new URL('./fixtures/optim/trajectories.json', import.meta.url), 'utf8'));
const hasBackward = typeof (Tensor.prototype as { backward?: unknown }).backward === 'function';
const TOL = 1e-5;

function assertClose(actual: ArrayLike<number>, expected: number[], what: string): void {
  const scale = Math.max(1e-3, ...expected.map(Math.abs));
  for (let i = 0; i < expected.length; i++) {
    const err = Math.abs(actual[i] - expected[i]);
    if (!(err <= TOL * scale)) assert.fail(`${what}[${i}]: ${actual[i]} vs PyTorch ${expected[i]} (error ${err.toExponential(2)})`);
  }
}

for (const c of golden.cases) {
  test(`${c.name}: loss, backward, step and schedule for 10 steps follow PyTorch`, { skip: !hasBackward && 'no autodiff engine (loss.backward())' }, async () => {
    const x = tensor(Float32Array.from(c.x), [8, 3]);
    const y = tensor(Float32Array.from(c.y), [8, 2]);
    const weight = new Parameter(Float32Array.from(c.initial[0]), [2, 3]);
    const bias = new Parameter(Float32Array.from(c.initial[1]), [2]);
    const { kind, groupLr, ...options } = c.optimizer_options;
    const groups = [{ params: [weight], lr: groupLr }, { params: [bias] }];
    const optimizer = kind === 'SGD' ? new optim.SGD(groups, options) : kind === 'Adam' ? new optim.Adam(groups, options) : new optim.AdamW(groups, options);
    const Scheduler = optim.lr_scheduler[c.scheduler] as unknown as new (o: optim.Optimizer, opts: unknown) => optim.lr_scheduler.LRScheduler;
    const scheduler = new Scheduler(optimizer, c.scheduler_options);
    for (const [k, step] of c.steps.entries()) {
      optimizer.zeroGrad();
      const loss = F.mseLoss(F.linear(x, weight, bias), y);
      await loss.backward();
      assertClose([await loss.item()], [step.loss], `step ${k + 1} loss`);
      assertClose(weight.grad!.value as Float32Array, step.grads[0], `step ${k + 1} weight gradient`);
      assertClose(bias.grad!.value as Float32Array, step.grads[1], `step ${k + 1} bias gradient`);
      optimizer.step();
      scheduler.step();
      assertClose(weight.value as Float32Array, step.params[0], `step ${k + 1} weight`);
      assertClose(bias.value as Float32Array, step.params[1], `step ${k + 1} bias`);
    }
  });
}
