// One gradient test per concatenating family against PyTorch (goldens from
// scripts/make_grad_goldens.py, float64): train mode (batch norm on batch statistics, dropout
// off on both sides), batch 2, the smallest input each takes, loss sum(logits * r); GoogLeNet's
// adds its auxiliary classifiers with weight 0.3. Every parameter's gradient, the loss, and every
// batch norm's running statistics after the step.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { F, models, nn, tensor, type Tensor } from '../src/index.ts';
import { zeroGrad } from '../src/runtime/index.ts';
import { GoogLeNet } from '../src/models/googlenet.ts';
import { deterministicInput, deterministicStateDict } from './support/deterministic.ts';
import { assertSummary, loadGradGolden, RTOL, summarize } from './support/grad-golden.ts';
import { keysOf } from './support/zoo-golden.ts';

const AUX_WEIGHT = 0.3;
const FAMILIES = ['alexnet', 'densenet121', 'googlenet', 'inception_v3', 'squeezenet1_1'] as const;

function lossOf(m: nn.Module & { forward(x: Tensor): Tensor }, x: Tensor, r: Tensor): Tensor {
  if (m instanceof GoogLeNet) {
    const { logits, aux1, aux2 } = m.forwardWithAux(x);
    assert.ok(aux1 && aux2, 'GoogLeNet computes its auxiliary classifiers in train mode');
    return F.add(F.sum(F.mul(logits, r)), F.mul(F.sum(F.mul(F.add(aux1, aux2), r)), AUX_WEIGHT));
  }
  return F.sum(F.mul(m.forward(x), r));
}

/**
 * Open: GoogLeNet's loss and its auxiliary heads' gradients match PyTorch to 1e-7, but the
 * backbone's gradients are 4e-4 (relative, sum of squares) from PyTorch's, where PyTorch's own
 * float32 run is 2e-5 away: not yet explained (max-pool ties after ReLU are the first suspect).
 * Inception v3's loss matches, but a few batch-norm bias gradients in Mixed_5c are past the
 * tolerance, where PyTorch's own float32 run is already 2% from float64: ill-conditioned at this
 * input size, or a gap of the same kind as GoogLeNet's.
 */
const OPEN: Partial<Record<(typeof FAMILIES)[number], string>> = {
  googlenet: 'backbone gradients 4e-4 from PyTorch (auxiliary heads and loss match)',
  inception_v3: 'loss matches; some batch-norm bias gradients of Mixed_5c are 3.8x PyTorch float32 noise from float64',
};

for (const arch of FAMILIES) {
  test(`${arch}: every parameter's gradient, the loss and the running statistics after a train-mode step match PyTorch`, { todo: OPEN[arch] }, async () => {
    const golden = loadGradGolden(arch);
    // Inception v3's auxiliary classifier needs the 299 input: the golden is built without it.
    const m = arch === 'inception_v3' ? new (await import('../src/models/inception.ts')).Inception3({ auxLogits: false }) : await models[arch]();
    m.loadStateDict(deterministicStateDict(keysOf(m.stateDict())));
    m.train();
    for (const sub of m.modules()) if (sub instanceof nn.Dropout) sub.training = false;
    const x = tensor(deterministicInput(golden.input_shape), golden.input_shape);
    const r = tensor(deterministicInput([golden.input_shape[0], 1000], golden.loss_seed), [golden.input_shape[0], 1000]);
    const params = new Map(m.namedParameters());
    assert.deepEqual([...params.keys()].sort(), Object.keys(golden.grads).sort(), `${arch}: parameter names`);
    zeroGrad(params.values());
    const loss = lossOf(m, x, r);
    await loss.backward();
    const l = await loss.item();
    const lossTol = Math.max(RTOL * Math.max(1, Math.abs(golden.losses[0])), 3 * Math.abs(golden.float32.losses[0] - golden.losses[0]));
    assert.ok(Math.abs(l - golden.losses[0]) <= lossTol, `${arch} loss: graft ${l}, PyTorch ${golden.losses[0]}`);
    const floor = 1e-6 * Math.max(...Object.values(golden.grads).map((g) => g.max_abs));
    for (const [name, p] of params) {
      assert.ok(p.grad, `${arch}: ${name} has no gradient`);
      assertSummary(summarize(p.grad.value as Float32Array), golden.grads[name], golden.float32.grads[name], `${arch} grad of ${name}`, floor);
    }
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
