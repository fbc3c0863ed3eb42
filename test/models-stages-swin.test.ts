// Swin's stages for the trainer: run in order they compute the forward pass; `--unfreeze N` trains
// the last N blocks (a stage's patch merging goes with its last block, the final layer norm with
// the very last) and the head, torchvision's `head`.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { models, nn, tensor } from '../src/index.ts';
import { skipInit } from '../src/nn/init.ts';
import { runStages } from '../src/models/stages.ts';
import { setTrainable, backboneStageCount, onlyHeadTrains } from '../src/train/trainable.ts';
import { deterministicInput, deterministicStateDict, withOwnBuffers } from './support/deterministic.ts';
import { keysOf } from './support/zoo-golden.ts';

async function deterministicSwin() {
  const m = await skipInit(() => models.swin_t());
  const own = m.stateDict();
  m.loadStateDict(withOwnBuffers(own, deterministicStateDict(keysOf(own))));
  return m.eval();
}

const BLOCKS = [[1, 2], [3, 2], [5, 6], [7, 2]].flatMap(([i, n]) => Array.from({ length: n }, (_, j) => `features.${i}.${j}`));

test('swin stages run in order compute the forward pass, at an input size that is no multiple of the windows', async () => {
  const m = await deterministicSwin();
  const x = tensor(deterministicInput([2, 3, 68, 60]), [2, 3, 68, 60]);
  const [whole, staged] = [await m.forward(x).data(), await runStages(m.stages(), x).data()];
  assert.equal(staged.length, 2 * 1000);
  assert.deepEqual(Array.from(staged), Array.from(whole));
});

test('--unfreeze N trains the last N blocks and the head; the stem is the patch embedding', async () => {
  const m = await deterministicSwin();
  const stages = m.stages();
  assert.deepEqual(stages.map((s) => s.name), ['features.0', ...BLOCKS, 'pool', 'head']);
  assert.equal(backboneStageCount(stages), 13);
  const names = new Map([...m.namedParameters()].map(([k, p]) => [p, k]));
  const trained = () => [...m.parameters()].filter((p) => p.requiresGrad).map((p) => names.get(p)!);
  const blockOf = (k: string) => (k.startsWith('features.') ? k.split('.').slice(0, 3).join('.') : k);

  setTrainable(stages, 0, 0.1);
  assert.deepEqual(trained(), ['head.weight', 'head.bias']);
  assert.ok(onlyHeadTrains(stages));

  setTrainable(stages, 2, 0.1);
  assert.deepEqual([...new Set(trained().map(blockOf))], ['features.7.0', 'features.7.1', 'norm.weight', 'norm.bias', 'head.weight', 'head.bias']);

  setTrainable(stages, 3, 0.1);
  assert.deepEqual([...new Set(trained().map(blockOf))].slice(0, 4), ['features.5.5', 'features.6.reduction', 'features.6.norm', 'features.7.0']);

  setTrainable(stages, 13, 0.1);
  assert.equal(trained().length, [...m.parameters()].length, 'unfreezing every stage trains every parameter');
  const stem = stages[0].modules.flatMap((mod) => [...mod.parameters()]).map((p) => names.get(p));
  assert.deepEqual(stem, ['features.0.0.weight', 'features.0.0.bias', 'features.0.2.weight', 'features.0.2.bias']);
});

test('resetClassifier replaces head for the new classes, and the builders take numClasses', async () => {
  const m = await skipInit(() => models.swin_v2_t({ numClasses: 5 }));
  assert.equal(m.numClasses, 5);
  m.resetClassifier(3);
  assert.equal(m.numClasses, 3);
  assert.deepEqual([...m.stateDict()].slice(-2).map(([k, v]) => [k, v.shape]), [['head.weight', [3, 768]], ['head.bias', [3]]]);
});

test('a Swin refuses an input that is not a batch of RGB images', async () => {
  const m = await skipInit(() => models.swin_t());
  assert.throws(() => m.forward(tensor(new Float32Array(64 * 64), [1, 1, 64, 64])), /expected \[batch, 3, height, width\] images/);
});

test('stochastic depth grows linearly over the blocks, from 0 at the first to the builder\'s rate at the last, as torchvision spaces it', async () => {
  for (const [arch, rate, total] of [['swin_t', 0.2, 12], ['swin_v2_b', 0.5, 24]] as const) {
    const m = await skipInit(() => models[arch]());
    const probs = [...m.modules()].filter((x) => x instanceof nn.StochasticDepth).map((x) => (x as nn.StochasticDepth).p);
    assert.equal(probs.length, total);
    probs.forEach((p, i) => assert.ok(Math.abs(p - (rate * i) / (total - 1)) < 1e-12, `${arch} block ${i}: ${p}`));
  }
});
