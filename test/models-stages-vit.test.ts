// ViT's stages for the trainer: run in order they compute the forward pass; `--unfreeze N` trains
// the last N encoder layers (the last with the final layer norm) and the head; the stem holds the
// patch projection, the class token and the position embedding; the head is torchvision's `heads`.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { models, tensor } from '../src/index.ts';
import { runStages } from '../src/models/stages.ts';
import { setTrainable, backboneStageCount, onlyHeadTrains } from '../src/train/trainable.ts';
import { deterministicInput, deterministicStateDict } from './support/deterministic.ts';

async function deterministicVit() {
  const m = await models.vit_b_32({ imageSize: 64 });
  m.loadStateDict(deterministicStateDict([...m.stateDict()].map(([k, v]) => [k, [...v.shape]])));
  return m.eval();
}

test('vit stages run in order compute the forward pass', async () => {
  const m = await deterministicVit();
  const x = tensor(deterministicInput([2, 3, 64, 64]), [2, 3, 64, 64]);
  const [whole, staged] = [await m.forward(x).data(), await runStages(m.stages(), x).data()];
  assert.equal(staged.length, 2 * 1000);
  assert.deepEqual(Array.from(staged), Array.from(whole));
});

test('--unfreeze N trains the last N encoder layers and the head; the stem holds the tokens and the patch projection', async () => {
  const m = await deterministicVit();
  const stages = m.stages();
  assert.deepEqual(stages.map((s) => s.name), ['stem', ...Array.from({ length: 12 }, (_, i) => `encoder.layers.encoder_layer_${i}`), 'pool', 'head']);
  assert.equal(backboneStageCount(stages), 13);
  const names = new Map([...m.namedParameters()].map(([k, p]) => [p, k]));
  const trained = () => [...m.parameters()].filter((p) => p.requiresGrad).map((p) => names.get(p)!);
  const layerOf = (k: string) => k.split('.').slice(0, 3).join('.');

  setTrainable(stages, 0, 0.1);
  assert.deepEqual(trained(), ['heads.head.weight', 'heads.head.bias']);
  assert.ok(onlyHeadTrains(stages));

  setTrainable(stages, 2, 0.1);
  assert.deepEqual([...new Set(trained().map(layerOf))],
    ['encoder.layers.encoder_layer_10', 'encoder.layers.encoder_layer_11', 'encoder.ln.weight', 'encoder.ln.bias', 'heads.head.weight', 'heads.head.bias']);

  setTrainable(stages, 13, 0.1);
  assert.equal(trained().length, [...m.parameters()].length, 'unfreezing every stage trains every parameter');
  const stem = stages[0].modules.flatMap((mod) => [...mod.parameters()]).map((p) => names.get(p));
  assert.deepEqual(stem.sort(), ['class_token', 'conv_proj.bias', 'conv_proj.weight', 'encoder.pos_embedding']);
});

test('resetClassifier replaces heads.head for the new classes', async () => {
  const m = await models.vit_b_32({ imageSize: 64, numClasses: 5 });
  assert.equal(m.numClasses, 5);
  m.resetClassifier(3);
  assert.equal(m.numClasses, 3);
  assert.deepEqual([...m.stateDict()].slice(-2).map(([k, v]) => [k, v.shape]), [['heads.head.weight', [3, 768]], ['heads.head.bias', [3]]]);
});
