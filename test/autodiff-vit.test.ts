// ViT's training gradients against PyTorch: vit_b_16 built for 32 x 32 inputs (2 x 2 patches and
// the class token), deterministic weights, train mode, batch 2, loss sum(logits * r); the gradient
// of every parameter (the class token, the position embedding and the packed attention projections
// included) against the float64 golden of scripts/make_grad_goldens.py (test/fixtures/grad/vit_b_16.json).
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { F, models, tensor } from '../src/index.ts';
import { skipInit } from '../src/nn/init.ts';
import { deterministicInput, deterministicStateDict } from './support/deterministic.ts';
import { assertTrainStep, loadGradGolden } from './support/grad-golden.ts';

test('vit_b_16: every parameter gradient matches PyTorch in train mode', async () => {
  const golden = loadGradGolden('vit_b_16');
  const [n, , size] = golden.input_shape;
  assert.equal(golden.steps, 1);
  const m = await skipInit(() => models.vit_b_16({ imageSize: size }));
  m.loadStateDict(deterministicStateDict([...m.stateDict()].map(([k, v]) => [k, [...v.shape]])));
  m.train();
  const x = tensor(deterministicInput(golden.input_shape), golden.input_shape);
  const r = tensor(deterministicInput([n, 1000], golden.loss_seed), [n, 1000]);
  await assertTrainStep('vit_b_16', m, golden, () => F.sum(F.mul(m.forward(x), r)));
});
