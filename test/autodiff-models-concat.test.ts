// One gradient test per concatenating family against PyTorch (goldens from
// scripts/make_grad_goldens.py, float64): train mode (batch norm on batch statistics, dropout
// off on both sides), batch 2, the smallest input each takes, loss sum(logits * r); GoogLeNet's
// adds its auxiliary classifiers with weight 0.3. Every parameter's gradient, the loss, and every
// batch norm's running statistics after the step.
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
    await assertTrainStep(arch, m, golden, () => lossOf(m, x, r));
  });
}
