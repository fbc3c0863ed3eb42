// Swin's and Swin V2's training gradients against PyTorch: swin_t and swin_v2_t on 68 x 68 inputs
// (padded, shifted windows with their mask in the first two stages, odd sides at every patch
// merging), deterministic weights, train mode with stochastic depth off, batch 2, loss
// sum(logits * r); the gradient of every parameter (relative position bias tables, V2's logit
// scales and cpb_mlp included) against the float64 golden of scripts/make_grad_goldens.py
// (test/fixtures/grad/<arch>.json).
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';

import { F, models, nn, tensor } from '../src/index.ts';
import { skipInit } from '../src/nn/init.ts';
import { deterministicInput, deterministicStateDict, withOwnBuffers } from './support/deterministic.ts';
import { assertTrainStep, loadGradGolden } from './support/grad-golden.ts';
import { keysOf } from './support/zoo-golden.ts';

for (const arch of ['swin_t', 'swin_v2_t'] as const) {
  test(`${arch}: every parameter gradient matches PyTorch in train mode`, async () => {
    const golden = loadGradGolden(arch);
    const [n] = golden.input_shape;
    assert.deepEqual(golden.input_shape, [2, 3, 68, 68]);
    assert.equal(golden.steps, 1);
    const m = await skipInit(() => models[arch]());
    const own = m.stateDict();
    m.loadStateDict(withOwnBuffers(own, deterministicStateDict(keysOf(own))));
    m.train();
    // Stochastic depth stays off so both sides are deterministic; its training form is tested in autodiff-models.
    for (const sub of m.modules()) if (sub instanceof nn.Dropout || sub instanceof nn.StochasticDepth) sub.training = false;
    const x = tensor(deterministicInput(golden.input_shape), golden.input_shape);
    const r = tensor(deterministicInput([n, 1000], golden.loss_seed), [n, 1000]);
    await assertTrainStep(arch, m, golden, () => F.sum(F.mul(m.forward(x), r)));
  });
}

afterEach(() => (globalThis as { gc?: () => void }).gc?.());
