// The optimizer base (groups, zeroGrad, skipped parameters, versions, state dicts, validation)
// and the SGD / Adam / AdamW specifics that the PyTorch trajectories don't reach.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { tensor } from '../src/graph/tensor.ts';
import { Parameter } from '../src/nn/parameter.ts';
import { Linear } from '../src/nn/layers/index.ts';
import * as optim from '../src/optim/index.ts';

const param = (values: number[]) => new Parameter(Float32Array.from(values), [values.length]);
const withGrad = (p: Parameter, g: number[]) => { p.grad = tensor(Float32Array.from(g), [g.length]); return p; };

test('a plain iterable of parameters makes one group with the defaults', () => {
  const fc = new Linear(4, 2);
  const opt = new optim.SGD(fc.parameters(), { lr: 1e-3, momentum: 0.9 });
  assert.equal(opt.paramGroups.length, 1);
  assert.deepEqual(opt.paramGroups[0].params, [...fc.parameters()]);
  assert.equal(opt.paramGroups[0].lr, 1e-3);
  assert.equal(opt.paramGroups[0].momentum, 0.9);
  assert.equal(opt.paramGroups[0].weightDecay, 0);
});

test('groups take their own options and the defaults for the rest', () => {
  const backbone = param([1, 2]);
  const head = param([3]);
  const opt = new optim.SGD([{ params: [backbone], lr: 1e-4 }, { params: [head] }], { lr: 1e-3, momentum: 0.9 });
  assert.equal(opt.paramGroups[0].lr, 1e-4);
  assert.equal(opt.paramGroups[1].lr, 1e-3);
  assert.equal(opt.paramGroups[0].momentum, 0.9);
  opt.addParamGroup({ params: [param([0])], weightDecay: 0.1 });
  assert.equal(opt.paramGroups[2].weightDecay, 0.1);
  assert.throws(() => opt.addParamGroup({ params: [head] }), /Some parameters of parameter group 3 are already in another group/);
});

test('step() skips parameters without a gradient and bumps the version of the others', () => {
  const a = withGrad(param([1, 1]), [1, -2]);
  const frozen = param([5]);
  const opt = new optim.SGD([a, frozen], { lr: 0.5 });
  const [va, vf] = [a.version, frozen.version];
  opt.step();
  assert.deepEqual([...(a.value as Float32Array)], [0.5, 2]);
  assert.deepEqual([...(frozen.value as Float32Array)], [5]);
  assert.equal(a.version, va + 1);
  assert.equal(frozen.version, vf);
  assert.equal(opt.state.has(frozen), false);
});

test('step() updates the parameter arrays in place', () => {
  const p = withGrad(param([1, 2, 3]), [1, 1, 1]);
  const values = p.value;
  new optim.Adam([p]).step();
  assert.equal(p.value, values);
});

test('zeroGrad() sets every gradient to null', () => {
  const a = withGrad(param([1]), [1]);
  const b = withGrad(param([1]), [1]);
  const opt = new optim.Adam([{ params: [a] }, { params: [b] }]);
  opt.zeroGrad();
  assert.equal(a.grad, null);
  assert.equal(b.grad, null);
});

test('a gradient that has not been computed yet is reported', () => {
  const p = param([1, 2]);
  p.grad = tensor(Float32Array.from([1, 2]), [2]).mul(2);
  assert.throws(() => new optim.SGD([p], { lr: 0.1 }).step(), /The gradient of parameter 0 has not been computed yet: await loss.backward\(\) before optimizer.step\(\)/);
});

test('SGD with maximize ascends: the same as descending the negated gradient', () => {
  const up = withGrad(param([1, -1]), [0.5, 2]);
  const down = withGrad(param([1, -1]), [-0.5, -2]);
  const options = { lr: 0.1, momentum: 0.9, weightDecay: 0.01 };
  const a = new optim.SGD([up], { ...options, maximize: true });
  const b = new optim.SGD([down], options);
  for (let k = 0; k < 3; k++) { a.step(); b.step(); }
  assert.deepEqual([...(up.value as Float32Array)], [...(down.value as Float32Array)]);
});

test('SGD without momentum keeps a null momentum buffer, as PyTorch', () => {
  const p = withGrad(param([1]), [1]);
  const opt = new optim.SGD([p], { lr: 0.1 });
  opt.step();
  assert.deepEqual(opt.stateDict().state, { 0: { momentum_buffer: null } });
});

test('Adam and AdamW with maximize ascend', () => {
  for (const Kind of [optim.Adam, optim.AdamW]) {
    const up = withGrad(param([1, -1]), [0.5, 2]);
    const down = withGrad(param([1, -1]), [-0.5, -2]);
    const a = new Kind([up], { lr: 0.1, maximize: true, amsgrad: true });
    const b = new Kind([down], { lr: 0.1, amsgrad: true });
    for (let k = 0; k < 3; k++) { a.step(); b.step(); }
    assert.deepEqual([...(up.value as Float32Array)], [...(down.value as Float32Array)], Kind.name);
  }
});

test('AdamW decays by 1e-2 by default; Adam does not decay', () => {
  assert.equal(new optim.AdamW([param([1])]).paramGroups[0].weightDecay, 1e-2);
  assert.equal(new optim.Adam([param([1])]).paramGroups[0].weightDecay, 0);
  // A zero gradient leaves Adam's weights alone and shrinks AdamW's by lr * weightDecay.
  const a = withGrad(param([2]), [0]);
  const w = withGrad(param([2]), [0]);
  new optim.Adam([a], { lr: 0.1 }).step();
  new optim.AdamW([w], { lr: 0.1 }).step();
  assert.equal((a.value as Float32Array)[0], 2);
  assert.equal((w.value as Float32Array)[0], Math.fround(2 * (1 - 0.1 * 1e-2)));
});

test('options are checked with the valid range and the received value', () => {
  const p = [param([1])];
  assert.throws(() => new optim.SGD(p, { lr: -1 }), { name: 'RangeError', message: 'Expected number >= 0 for lr but received -1 of type number' });
  assert.throws(() => new optim.SGD(p, {}), /Expected number >= 0 \(give it to the group or to the defaults\) for lr but received undefined/);
  assert.throws(() => new optim.SGD(p, { lr: 0.1, momentum: -0.5 }), /Expected number >= 0 for momentum but received -0.5/);
  assert.throws(() => new optim.SGD(p, { lr: 0.1, nesterov: true }), /Nesterov momentum needs momentum > 0 and dampening 0/);
  assert.throws(() => new optim.SGD([{ params: p, weightDecay: -1 }], { lr: 0.1 }), /Expected number >= 0 for weightDecay of parameter group 0 but received -1/);
  assert.throws(() => new optim.Adam(p, { betas: [0.9, 1] }), /Expected number >= 0 and < 1 for betas\[1\] but received 1/);
  assert.throws(() => new optim.Adam(p, { eps: -1e-8 }), /Expected number >= 0 for eps but received -1e-8/);
  assert.throws(() => new optim.SGD([], { lr: 0.1 }), /The optimizer got an empty parameter list/);
  assert.throws(() => new optim.SGD([p[0], p[0]], { lr: 0.1 }), /Parameter group 0 lists the same parameter more than once/);
  assert.throws(() => new optim.SGD([{ params: [tensor([1])] as unknown as Parameter[] }], { lr: 0.1 }), { name: 'TypeError', message: /Expected a Parameter for params\[0\] of parameter group 0/ });
});

test('loadStateDict refuses a state dict that does not fit, naming the mismatch, and changes nothing', () => {
  const make = () => {
    const a = withGrad(param([1, 2]), [0.1, 0.2]);
    const b = withGrad(param([3]), [0.3]);
    const opt = new optim.Adam([{ params: [a] }, { params: [b], lr: 0.01 }]);
    opt.step();
    return opt;
  };
  const opt = make();
  const sd = opt.stateDict();
  const before = JSON.stringify(opt.stateDict(), (_, v) => (v instanceof Float32Array ? [...v] : v));
  assert.throws(() => opt.loadStateDict({ ...sd, param_groups: sd.param_groups.slice(0, 1) }), /The loaded state dict has 1 parameter groups but this optimizer has 2/);
  assert.throws(() => opt.loadStateDict({ ...sd, param_groups: [sd.param_groups[0], { ...sd.param_groups[1], params: [1, 2] }] }),
    /Parameter group 1 of the loaded state dict has 2 parameters but this optimizer's group 1 has 1/);
  assert.throws(() => opt.loadStateDict({ ...sd, state: { ...sd.state, 0: { ...sd.state[0], exp_avg: new Float32Array(3) } } }),
    /Expected 2 values \(parameter 0 has shape \[2\]\) for state\[0\].exp_avg but received a Float32Array of length 3/);
  assert.throws(() => opt.loadStateDict({ ...sd, state: { ...sd.state, 0: { ...sd.state[0], momentum_buffer: null } } }),
    /state\[0\] has the key "momentum_buffer", which Adam does not keep \(it keeps: step, exp_avg, exp_avg_sq, max_exp_avg_sq\)/);
  assert.throws(() => opt.loadStateDict({ ...sd, state: { 7: sd.state[0] } }), /state for parameter 7, which none of its parameter groups lists/);
  assert.throws(() => opt.loadStateDict({ ...sd, param_groups: [{ ...sd.param_groups[0], momentum: 0.9 }, sd.param_groups[1]] }),
    /Parameter group 0 of the loaded state dict has the key "momentum", which Adam does not know/);
  assert.throws(() => opt.loadStateDict({ ...sd, param_groups: [{ ...sd.param_groups[0], lr: -1 }, sd.param_groups[1]] }),
    /Expected number >= 0 for lr of parameter group 0 but received -1/);
  const after = JSON.stringify(opt.stateDict(), (_, v) => (v instanceof Float32Array ? [...v] : v));
  assert.equal(after, before);
});

test('a PyTorch state dict (plain arrays, tensor step, PyTorch-only flags) loads', () => {
  const p = withGrad(param([1, 2]), [0.1, 0.2]);
  const opt = new optim.Adam([p]);
  opt.loadStateDict({
    state: { 0: { step: [3] as unknown as number, exp_avg: [0.1, 0.2] as unknown as Float32Array, exp_avg_sq: [0.01, 0.04] as unknown as Float32Array } },
    param_groups: [{ lr: 0.002, betas: [0.9, 0.999], eps: 1e-8, weight_decay: 0, amsgrad: false, maximize: false, foreach: null, capturable: false, differentiable: false, fused: false, params: [0] }],
  });
  assert.equal(opt.paramGroups[0].lr, 0.002);
  const s = opt.state.get(p)!;
  assert.equal(s.step, 3);
  assert.ok(s.expAvg instanceof Float32Array);
  opt.step();
  assert.equal(opt.state.get(p)!.step, 4);
});

test('stateDict() returns copies: later steps do not change a saved dict', () => {
  const p = withGrad(param([1, 2]), [0.1, 0.2]);
  const opt = new optim.SGD([p], { lr: 0.1, momentum: 0.9 });
  opt.step();
  const saved = opt.stateDict();
  const buffer = [...(saved.state[0].momentum_buffer as Float32Array)];
  opt.step();
  assert.deepEqual([...(saved.state[0].momentum_buffer as Float32Array)], buffer);
});
