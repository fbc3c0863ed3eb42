// MaxViT's stages for the trainer: run in order they compute the forward pass; `--unfreeze N`
// trains the last N MaxViT layers (the last with the classifier's layer norm and first Linear,
// which make the tanh embedding) and the head, torchvision's `classifier.5`, the Linear a
// transfer recipe replaces. The small configuration of scripts/make_zoo_goldens.py runs; maxvit_t
// is only built.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { models, tensor } from '../src/index.ts';
import { skipInit } from '../src/nn/init.ts';
import { runStages, splitAtHead } from '../src/models/stages.ts';
import { setTrainable, backboneStageCount, onlyHeadTrains } from '../src/train/trainable.ts';
import { deterministicInput, deterministicStateDict } from './support/deterministic.ts';
import { loadZooGolden } from './support/zoo-golden.ts';
import { maxVitFromTorchArgs, type TorchMaxVitArgs } from './support/maxvit.ts';

const ARGS = (loadZooGolden('maxvit-small') as ReturnType<typeof loadZooGolden> & { build_args: TorchMaxVitArgs }).build_args;
const SHAPE = [2, 3, ARGS.input_size[0], ARGS.input_size[1]];

function deterministicMaxVit(): models.MaxVit {
  const m = skipInit(() => maxVitFromTorchArgs(ARGS));
  m.loadStateDict(deterministicStateDict([...m.stateDict()].map(([k, v]) => [k, [...v.shape]])));
  return m.eval();
}

const names = (m: models.MaxVit) => new Map([...m.namedParameters()].map(([k, p]) => [p, k]));
const trained = (m: models.MaxVit) => {
  const byParam = names(m);
  return [...m.parameters()].filter((p) => p.requiresGrad).map((p) => byParam.get(p)!);
};
/** blocks.B.layers.L for a layer's parameters, the key itself for the others. */
const layerOf = (k: string) => (k.startsWith('blocks.') ? k.split('.').slice(0, 4).join('.') : k);

test('maxvit stages run in order compute the forward pass, and the embedding is the tanh before classifier.5', async () => {
  const m = deterministicMaxVit();
  const x = tensor(deterministicInput(SHAPE), SHAPE);
  const [whole, staged] = [await m.forward(x).data(), await runStages(m.stages(), x).data()];
  assert.equal(staged.length, 2 * 1000);
  assert.deepEqual(Array.from(staged), Array.from(whole));
  const embedding = runStages(splitAtHead(m.stages()).backbone, x);
  const width = ARGS.block_channels[ARGS.block_channels.length - 1];
  assert.deepEqual(embedding.shape, [2, width]);
  assert.ok(Array.from(await embedding.data()).every((v) => Math.abs(v) <= 1), 'a tanh output');
});

test('--unfreeze N trains the last N MaxViT layers and the head; the stem holds both stem convolutions', () => {
  const m = deterministicMaxVit();
  const stages = m.stages();
  assert.deepEqual(stages.map((s) => s.name), ['stem', 'blocks.0.layers.0', 'blocks.1.layers.0', 'blocks.1.layers.1', 'pool', 'head']);
  assert.equal(backboneStageCount(stages), 4);

  setTrainable(stages, 0, 0.1);
  assert.deepEqual(trained(m), ['classifier.5.weight']);
  assert.ok(onlyHeadTrains(stages));

  setTrainable(stages, 2, 0.1);
  assert.deepEqual([...new Set(trained(m).map(layerOf))],
    ['blocks.1.layers.0', 'blocks.1.layers.1', 'classifier.2.weight', 'classifier.2.bias', 'classifier.3.weight', 'classifier.3.bias', 'classifier.5.weight']);
  assert.ok(trained(m).some((k) => k === 'blocks.1.layers.1.layers.grid_attention.attn_layer.1.relative_position_bias_table'));

  setTrainable(stages, 4, 0.1);
  assert.equal(trained(m).length, [...m.parameters()].length, 'unfreezing every stage trains every parameter');
  const stem = stages[0].modules.flatMap((mod) => [...mod.parameters()]).map((p) => names(m).get(p));
  assert.deepEqual(stem, ['stem.0.0.weight', 'stem.0.1.weight', 'stem.0.1.bias', 'stem.1.0.weight', 'stem.1.0.bias']);
});

test('maxvit_t has a stage per MaxViT layer (2, 2, 5, 2), then the pooling and classifier.5', async () => {
  const m = await skipInit(() => models.maxvit_t());
  const stages = m.stages();
  const layers = [[0, 2], [1, 2], [2, 5], [3, 2]].flatMap(([b, n]) => Array.from({ length: n }, (_, l) => `blocks.${b}.layers.${l}`));
  assert.deepEqual(stages.map((s) => s.name), ['stem', ...layers, 'pool', 'head']);
  assert.equal(backboneStageCount(stages), 12);
  assert.deepEqual(stages[stages.length - 1].modules, [m.classifier[5]]);
});

test('resetClassifier replaces classifier.5 by a Linear without bias, so the state dict still loads into torchvision', async () => {
  const m = await skipInit(() => models.maxvit_t({ numClasses: 5 }));
  assert.equal(m.numClasses, 5);
  m.resetClassifier(3);
  assert.equal(m.numClasses, 3);
  assert.deepEqual([...m.stateDict()].slice(-1).map(([k, v]) => [k, v.shape]), [['classifier.5.weight', [3, 512]]]);
});
