// MaxViT's training gradients against PyTorch: torchvision's MaxVit class in the small
// configuration of scripts/make_zoo_goldens.py (MAXVIT_SMALL: a 48 input, 3 x 3 windows and grids),
// deterministic weights, train mode (batch norm on batch statistics; stochastic depth off on both
// sides), batch 2, loss sum(logits * r); the gradient of every parameter (the relative position
// bias tables, read through their index, included) and every batch norm's running statistics
// after the step, against the float64 golden of scripts/make_grad_goldens.py
// (test/fixtures/grad/maxvit-small.json).
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { F, nn, tensor } from '../src/index.ts';
import { skipInit } from '../src/nn/init.ts';
import { deterministicInput, deterministicStateDict } from './support/deterministic.ts';
import { assertTrainStep, loadGradGolden } from './support/grad-golden.ts';
import { loadZooGolden } from './support/zoo-golden.ts';
import { maxVitFromTorchArgs, type TorchMaxVitArgs } from './support/maxvit.ts';

test('maxvit-small: every parameter gradient and batch norm statistic matches PyTorch in train mode', async () => {
  const golden = loadGradGolden('maxvit-small');
  const { build_args: args } = loadZooGolden('maxvit-small') as ReturnType<typeof loadZooGolden> & { build_args: TorchMaxVitArgs };
  const [n, , size] = golden.input_shape;
  assert.equal(golden.steps, 1);
  assert.deepEqual(args.input_size, [size, size]);
  const m = skipInit(() => maxVitFromTorchArgs(args));
  m.loadStateDict(deterministicStateDict([...m.stateDict()].map(([k, v]) => [k, [...v.shape]])));
  m.train();
  let dropped = 0;
  for (const sub of m.modules()) if (sub instanceof nn.StochasticDepth) { sub.training = false; dropped++; }
  assert.ok(dropped > 0, 'the small configuration has stochastic depth to switch off');
  assert.ok([...m.namedParameters()].some(([k]) => k.endsWith('relative_position_bias_table')));
  const x = tensor(deterministicInput(golden.input_shape), golden.input_shape);
  const r = tensor(deterministicInput([n, 1000], golden.loss_seed), [n, 1000]);
  await assertTrainStep('maxvit-small', m, golden, () => F.sum(F.mul(m.forward(x), r)));
});
