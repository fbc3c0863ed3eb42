// Every LR scheduler against PyTorch 1.13's lr sequence over 30 steps (and the momentum / beta1
// that OneCycleLR cycles), from test/fixtures/optim/schedulers.json (scripts/make_optim_goldens.py).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

import { Parameter } from '../src/nn/parameter.ts';
import * as optim from '../src/optim/index.ts';

interface SchedulerCase {
  name: keyof typeof optim.lr_scheduler;
  optimizer: 'sgd' | 'adam';
  group_lrs: number[];
  options: Record<string, unknown>;
  optimizer_options: { momentum?: number };
  lrs: number[][];
  momenta: number[][];
  metrics?: number[];
}

const golden: { cases: SchedulerCase[] } = JSON.parse(readFileSync(new URL('./fixtures/optim/schedulers.json', import.meta.url), 'utf8'));

const param = () => new Parameter(new Float32Array(1), [1]);
type AnyScheduler = { step(metric?: number): void; getLastLr(): number[]; stateDict(): Record<string, unknown>; loadStateDict(sd: Record<string, unknown>): void };

function build(c: SchedulerCase) {
  const groups = c.group_lrs.map((lr) => ({ params: [param()], lr }));
  const optimizer = c.optimizer === 'sgd'
    ? new optim.SGD(groups, { lr: c.group_lrs[0], momentum: c.optimizer_options.momentum ?? 0.9 })
    : new optim.Adam(groups, { lr: c.group_lrs[0] });
  const Scheduler = optim.lr_scheduler[c.name] as unknown as new (o: optim.Optimizer, opts: unknown) => AnyScheduler;
  return { optimizer, scheduler: new Scheduler(optimizer, c.options) };
}

const momentaOf = (o: optim.Optimizer) => o.paramGroups.map((g) => ('betas' in g ? (g.betas as number[])[0] : (g as unknown as { momentum: number }).momentum));

/** Same formulas in the same order as PyTorch: only the last bits of Math.cos may differ from C's cos. */
function assertLrs(actual: number[], expected: number[], what: string): void {
  assert.equal(actual.length, expected.length, what);
  actual.forEach((v, i) => {
    if (!(Math.abs(v - expected[i]) <= 1e-13 * Math.abs(expected[i]))) assert.fail(`${what}[${i}]: ${v} vs PyTorch ${expected[i]}`);
  });
}

const seen = new Map<string, number>();
for (const c of golden.cases) {
  const n = (seen.get(c.name) ?? 0) + 1;
  seen.set(c.name, n);
  const label = `${c.name} #${n} (${c.optimizer}, ${JSON.stringify(c.options)})`;

  test(`${label}: lr sequence is PyTorch's`, () => {
    const { optimizer, scheduler } = build(c);
    assertLrs(optimizer.paramGroups.map((g) => g.lr), c.lrs[0], 'lr after construction');
    assertLrs(momentaOf(optimizer), c.momenta[0], 'momentum after construction');
    for (let k = 1; k < c.lrs.length; k++) {
      scheduler.step(c.metrics?.[k - 1]);
      assertLrs(scheduler.getLastLr(), c.lrs[k], `lr after step ${k}`);
      assertLrs(optimizer.paramGroups.map((g) => g.lr), c.lrs[k], `group lr after step ${k}`);
      assertLrs(momentaOf(optimizer), c.momenta[k], `momentum after step ${k}`);
    }
  });

  test(`${label}: a state dict taken at step 12 continues the same sequence`, () => {
    const first = build(c);
    for (let k = 1; k <= 12; k++) first.scheduler.step(c.metrics?.[k - 1]);
    const saved = structuredClone({ optimizer: first.optimizer.stateDict(), scheduler: first.scheduler.stateDict() });
    const second = build(c);
    second.optimizer.loadStateDict(saved.optimizer);
    second.scheduler.loadStateDict(saved.scheduler);
    for (let k = 13; k < c.lrs.length; k++) {
      second.scheduler.step(c.metrics?.[k - 1]);
      assertLrs(second.scheduler.getLastLr(), c.lrs[k], `resumed lr after step ${k}`);
      assertLrs(momentaOf(second.optimizer), c.momenta[k], `resumed momentum after step ${k}`);
    }
  });
}

test('schedulers record initial_lr in the groups and use PyTorch names in their state dicts', () => {
  const optimizer = new optim.SGD([param()], { lr: 0.1 });
  const scheduler = new optim.lr_scheduler.StepLR(optimizer, { stepSize: 3 });
  assert.equal(optimizer.paramGroups[0].initialLr, 0.1);
  assert.deepEqual(scheduler.stateDict(), { step_size: 3, gamma: 0.1, base_lrs: [0.1], last_epoch: 0, _step_count: 1, _last_lr: [0.1] });
  assert.equal(optimizer.stateDict().param_groups[0].initial_lr, 0.1);
});

test('resuming a schedule with lastEpoch needs initialLr in the groups', () => {
  const optimizer = new optim.SGD([param()], { lr: 0.1 });
  assert.throws(() => new optim.lr_scheduler.CosineAnnealingLR(optimizer, { tMax: 10, lastEpoch: 4 }),
    /Parameter group 0 has no initialLr, which resuming a schedule at lastEpoch 4 needs/);
  optimizer.paramGroups[0].initialLr = 0.1;
  const resumed = new optim.lr_scheduler.CosineAnnealingLR(optimizer, { tMax: 10, lastEpoch: 4 });
  // Resumed at epoch 5: PyTorch's closed form 0.1 * (1 + cos(pi/2)) / 2.
  assert.ok(Math.abs(resumed.getLastLr()[0] - 0.05) < 1e-15);
});

test('scheduler options are checked with the valid range in the message', () => {
  const optimizer = new optim.SGD([param()], { lr: 0.1, momentum: 0.9 });
  const s = optim.lr_scheduler;
  assert.throws(() => new s.StepLR(optimizer, { stepSize: 0 }), { name: 'RangeError', message: 'Expected integer >= 1 for stepSize but received 0 of type number' });
  assert.throws(() => new s.MultiStepLR(optimizer, { milestones: [3, -1] }), /Expected integer >= 0 for milestones\[1\] but received -1/);
  assert.throws(() => new s.CosineAnnealingLR(optimizer, { tMax: 2.5 }), /Expected integer >= 1 for tMax but received 2.5/);
  assert.throws(() => new s.LinearLR(optimizer, { startFactor: 0 }), /Expected number > 0 and <= 1 for startFactor but received 0/);
  assert.throws(() => new s.OneCycleLR(optimizer, { maxLr: 0.1 }), /OneCycleLR needs totalSteps, or epochs and stepsPerEpoch/);
  assert.throws(() => new s.OneCycleLR(optimizer, { maxLr: [0.1, 0.2], totalSteps: 10 }), /Expected a number or an array of 1 numbers \(one per parameter group\) for maxLr/);
  assert.throws(() => new s.OneCycleLR(optimizer, { maxLr: 0.1, totalSteps: 10, annealStrategy: 'cosine' as 'cos' }), /Expected one of "cos", "linear" for annealStrategy but received "cosine"/);
  assert.throws(() => new s.ReduceLROnPlateau(optimizer, { factor: 1 }), /Expected number >= 0 and < 1 for factor but received 1/);
  assert.throws(() => new s.ReduceLROnPlateau(optimizer, { mode: 'minimum' as 'min' }), /Expected one of "min", "max" for mode but received "minimum"/);
  assert.throws(() => new s.StepLR({} as optim.Optimizer, { stepSize: 1 }), { name: 'TypeError', message: /Expected an Optimizer for optimizer/ });
});

test('OneCycleLR refuses to step past totalSteps, as PyTorch', () => {
  const optimizer = new optim.SGD([param()], { lr: 0.1, momentum: 0.9 });
  const scheduler = new optim.lr_scheduler.OneCycleLR(optimizer, { maxLr: 0.1, totalSteps: 4 });
  for (let k = 0; k < 4; k++) scheduler.step();
  assert.throws(() => scheduler.step(), /OneCycleLR was stepped 6 times but totalSteps is 4/);
});

test('a scheduler state dict with a missing or mistyped key is refused by name', () => {
  const optimizer = new optim.SGD([param()], { lr: 0.1 });
  const scheduler = new optim.lr_scheduler.StepLR(optimizer, { stepSize: 3 });
  const sd = scheduler.stateDict();
  assert.throws(() => scheduler.loadStateDict({ ...sd, gamma: 'x' }), /Expected a number for "gamma" in the state dict of StepLR but received "x"/);
  const { last_epoch: _, ...partial } = sd;
  assert.throws(() => scheduler.loadStateDict(partial), /The state dict of StepLR has no "last_epoch"/);
  assert.throws(() => scheduler.loadStateDict({ ...sd, T_max: 3 }), /The state dict of StepLR has the key "T_max", which it does not keep/);
});
