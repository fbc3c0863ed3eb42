// Gradient tests of RegNet (its grouped bottlenecks and squeeze-excitation) and MNASNet against
// PyTorch (goldens from scripts/make_grad_goldens.py, float64): train mode (batch norm on batch
// statistics, dropout off on both sides), batch 4 (with batch 2 the batch norms of the last
// stage see too few values and float32 drifts past its own noise), one step, loss
// sum(logits * r). Every parameter's gradient, the loss, and every batch norm's running
// statistics after the step.
import { test } from 'node:test';

import { F, models, nn, tensor } from '../src/index.ts';
import { deterministicInput, deterministicStateDict } from './support/deterministic.ts';
import { assertTrainStep, loadGradGolden } from './support/grad-golden.ts';
import { keysOf } from './support/zoo-golden.ts';

for (const arch of ['regnet_y_400mf', 'mnasnet0_5'] as const) {
  test(`${arch}: every parameter's gradient, the loss and the running statistics after a train-mode step match PyTorch`, async () => {
    const golden = loadGradGolden(arch);
    const m = await models[arch]();
    m.loadStateDict(deterministicStateDict(keysOf(m.stateDict())));
    m.train();
    for (const sub of m.modules()) if (sub instanceof nn.Dropout) sub.training = false;
    const [n] = golden.input_shape;
    const x = tensor(deterministicInput(golden.input_shape), golden.input_shape);
    const r = tensor(deterministicInput([n, 1000], golden.loss_seed), [n, 1000]);
    await assertTrainStep(arch, m, golden, () => F.sum(F.mul(m.forward(x), r)));
  });
}
