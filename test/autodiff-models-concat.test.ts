// One gradient test per concatenating family against PyTorch (goldens from
// scripts/make_grad_goldens.py, float64): train mode (batch norm on batch statistics, dropout
// off on both sides), batch 2, the smallest input each takes, loss sum(logits * r); GoogLeNet's
// adds its auxiliary classifiers with weight 0.3. Every parameter's gradient, the loss, and every
// batch norm's running statistics after the step. Where a network amplifies rounding, its golden's
// perturbed float64 runs widen the tolerance (test/support/grad-golden.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { F, models, nn, tensor, type Tensor } from '../src/index.ts';
import { GoogLeNet } from '../src/models/googlenet.ts';
import { deterministicInput, deterministicStateDict } from './support/deterministic.ts';
import { assertTrainStep, loadGradGolden } from './support/grad-golden.ts';
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
 * Open: Inception v3 at this size (139, batch 2) is ill-conditioned with deterministic weights in
 * train mode: its gradients are decided by rounding. float64 runs on inputs moved by a relative
 * 1e-7 (the golden's perturbed runs) scatter by a median 0.6% of each tensor's scale, graft's own
 * float32 values move by up to 2% of it between two such inputs or between its two convolution
 * layouts (Mixed_5b.branch_pool.bn.bias[6]: 4.9 to 6.6, float64 6.5, PyTorch float32 6.7),
 * and a tolerance wide enough for that misses a 1% error in the average-pool gradient. Batch 4
 * and 8 at 139 are no better-conditioned. The family's gradient rules are held by the test with
 * batch norm frozen below. GoogLeNet has the same amplification, milder: its golden's perturbed
 * runs (1e-6) set its tolerance, which still catches a 1% error in the max-pool gradient.
 */
const OPEN: Partial<Record<(typeof FAMILIES)[number], string>> = {
  inception_v3: 'ill-conditioned at 139 with batch 2: graft float32 scatters by up to 2% under a 1e-7 input perturbation',
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
    await assertTrainStep(arch, m, golden, () => lossOf(m, x, r));
  });
}

// Inception v3 with every batch norm in inference mode (running statistics, as a frozen backbone
// trains), on its smallest input: without the batch coupling its gradients no longer hang on
// rounding, so its own rules (the 1x7 and 7x1 convolutions, average pooling with padding
// counted, the concatenations) are held to the usual tolerance, except below one ReLU input in
// the stem that lies within float32's rounding of zero (the golden's perturbed runs cover it).
// It fails on a 1% error in the average-pool gradient.
test('inception_v3 with batch norm frozen: every parameter\'s gradient and the loss of a train-mode step match PyTorch', async () => {
  const golden = loadGradGolden('inception_v3-frozen-bn');
  const m = new (await import('../src/models/inception.ts')).Inception3({ auxLogits: false });
  m.loadStateDict(deterministicStateDict(keysOf(m.stateDict())));
  m.train();
  for (const sub of m.modules()) if (sub instanceof nn.Dropout || sub instanceof nn.BatchNorm2d) sub.training = false;
  const x = tensor(deterministicInput(golden.input_shape), golden.input_shape);
  const r = tensor(deterministicInput([golden.input_shape[0], 1000], golden.loss_seed), [golden.input_shape[0], 1000]);
  await assertTrainStep('inception_v3 (batch norm frozen)', m, golden, () => lossOf(m, x, r));
});
