// Every torchvision RegNet against torchvision: state-dict keys, shapes and order, and the logits of
// a deterministic input with deterministic weights (goldens from scripts/make_zoo_goldens.py).
// The networks are built with skipInit, since the deterministic state dict replaces every value:
// drawing random initial values would be most of this file's time. regnet_y_128gf (644M
// parameters) is too big to run here: its keys and shapes are checked, without a forward.
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';

import { models, tensor } from '../src/index.ts';
import { skipInit } from '../src/nn/init.ts';
import { releaseSessions } from '../src/runtime/index.ts';
import { zooBuilder } from '../src/models/zoo.ts';
import { REGNET_DESIGNS, RegNet, type RegNetName } from '../src/models/regnet.ts';
import { blockParams } from '../src/models/regnet-params.ts';
import { runStages } from '../src/models/stages.ts';
import { deterministicInput, deterministicStateDict } from './support/deterministic.ts';
import { assertLogits, assertSameKeys, keysOf, loadZooGolden } from './support/zoo-golden.ts';

/** Allowed error, relative to the largest |logit| of the golden. */
const RTOL = 1e-5;

const build = (arch: RegNetName) => skipInit(() => zooBuilder(arch)!({})) as RegNet;

for (const arch of Object.keys(REGNET_DESIGNS) as RegNetName[]) {
  const golden = loadZooGolden(arch);
  const runs = golden.logits !== undefined;
  test(`${arch} matches torchvision${runs ? '' : ': keys and shapes only, no forward (too big to run in a test)'}`, async (t) => {
    const m = build(arch);
    assertSameKeys(arch, m.stateDict(), golden);
    if (!runs) return;
    m.loadStateDict(deterministicStateDict(keysOf(m.stateDict())));
    m.eval();
    const shape = golden.input_shape!;
    const out = await m.forward(tensor(deterministicInput(shape), shape)).floats();
    const rel = assertLogits(arch, out, golden, RTOL);
    t.diagnostic(`${arch}: max |graft - torchvision| = ${rel.toExponential(2)} of max |logit| ${golden.max_abs}`);
  });
}

test('RegNet stages compose to its forward pass, and the head to replace is fc', async () => {
  const m = await models.regnet_y_400mf({ numClasses: 3 });
  assert.ok(m instanceof RegNet);
  m.eval();
  assert.deepEqual(m.stages().map((s) => s.name), [
    'stem', 'trunk_output.block1', 'trunk_output.block2', 'trunk_output.block3', 'trunk_output.block4', 'pool', 'head',
  ]);
  const x = tensor(deterministicInput([1, 3, 32, 32]), [1, 3, 32, 32]);
  const [whole, staged] = [await m.forward(x).floats(), await runStages(m.stages(), x).floats()];
  assert.equal(whole.length, 3);
  whole.forEach((v, i) => assert.ok(Math.abs(v - staged[i]) <= 1e-6 * Math.max(1, Math.abs(v)), `logit ${i}: ${v} vs ${staged[i]}`));
  m.resetClassifier(5);
  assert.equal(m.numClasses, 5);
  assert.deepEqual(m.fc.weight.shape, [5, 440]);
});

test('RegNet block parameters: invalid designs are refused, naming the setting', () => {
  assert.throws(() => blockParams({ depth: 16, w0: 50, wa: 27.89, wm: 2.09, groupWidth: 8 }), /w0 50 \(a positive multiple of 8\)/);
  assert.throws(() => blockParams({ depth: 16, w0: 48, wa: 27.89, wm: 1, groupWidth: 8 }), /wm 1 \(> 1\)/);
});

// One model at a time: let the previous model's compiled session and weights go. gc is there
// only under --expose-gc; otherwise V8 collects when external memory grows.
afterEach(async () => {
  await releaseSessions();
  (globalThis as { gc?: () => void }).gc?.();
});
