// Every zoo model against torchvision: same state-dict keys and shapes, and the same logits for a
// deterministic input with deterministic weights (no real weights needed). The goldens in
// test/fixtures/zoo/<arch>.json were produced by PyTorch with scripts/make_zoo_goldens.py.
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';

import { models, tensor } from '../src/index.ts';
import type { StateDict } from '../src/nn/state-dict.ts';
import { skipInit } from '../src/nn/init.ts';
import { deterministicInput, deterministicStateDict } from './support/deterministic.ts';
import { assertLogits, assertSameKeys, keysOf, loadZooGolden } from './support/zoo-golden.ts';

const ZOO = [
  'resnet18', 'resnet34', 'resnet50', 'resnet101', 'resnet152',
  'resnext50_32x4d', 'wide_resnet50_2',
  'vgg11', 'vgg11_bn', 'vgg13', 'vgg13_bn', 'vgg16', 'vgg16_bn', 'vgg19', 'vgg19_bn',
  'mobilenet_v2', 'mobilenet_v3_small', 'mobilenet_v3_large',
] as const;

const INPUT_SHAPE = [2, 3, 64, 64];
/** Allowed error, relative to the largest |logit| of the golden. */
const RTOL = 1e-4;

/** The slice of the public models API this test relies on. */
interface ZooModule {
  stateDict(): StateDict;
  loadStateDict(sd: StateDict, opts?: { strict?: boolean }): unknown;
  eval(): unknown;
  forward(x: ReturnType<typeof tensor>): { data(): Promise<Float32Array> };
}
type Builder = (opts?: { numClasses?: number; weights?: string | null }) => Promise<ZooModule>;

function builder(arch: string): Builder {
  const b = (models as unknown as Record<string, Builder | undefined>)[arch];
  assert.equal(typeof b, 'function', `models.${arch} is not a function`);
  return b!;
}

for (const arch of ZOO) {
  test(`${arch} matches torchvision`, async (t) => {
    const golden = loadZooGolden(arch);
    // Nothing drawn at build time: the deterministic state dict replaces every value.
    const m = await skipInit(() => builder(arch)());

    await t.test('state-dict keys and shapes', () => assertSameKeys(arch, m.stateDict(), golden));

    await t.test('logits', async () => {
      assert.deepEqual(golden.input_shape, INPUT_SHAPE, `${arch}: golden input shape`);
      // Built from graft's own keys and order: the seeds follow the order, so an ordering
      // difference shows up here as wrong logits and in the keys subtest by name.
      m.loadStateDict(deterministicStateDict(keysOf(m.stateDict())));
      m.eval();
      const out = await m.forward(tensor(deterministicInput(INPUT_SHAPE), INPUT_SHAPE)).data();
      const relative = assertLogits(arch, out, golden, RTOL);
      t.diagnostic(`${arch}: max |graft - torchvision| = ${relative.toExponential(2)} of max |logit| ${golden.max_abs}`);
    });
  });
}

// One model at a time: let the previous model's weights go (a vgg holds ~550 MB of them). gc is
// there only under --expose-gc; otherwise V8 collects when external memory grows.
afterEach(() => (globalThis as { gc?: () => void }).gc?.());
