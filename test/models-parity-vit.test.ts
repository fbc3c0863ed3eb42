// torchvision's Vision Transformers against torchvision: the same state-dict keys, shapes and
// order, and the same logits for a deterministic input with deterministic weights. ViT is built
// for one image size; the goldens (test/fixtures/zoo/<arch>.json, scripts/make_zoo_goldens.py)
// build each at 2 x 2 patches (build_args.image_size) and record it.
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';

import { models, tensor } from '../src/index.ts';
import { skipInit } from '../src/nn/init.ts';
import { deterministicInput, deterministicStateDict } from './support/deterministic.ts';
import { assertLogits, assertSameKeys, keysOf, loadZooGolden } from './support/zoo-golden.ts';

const ARCHS = ['vit_b_16', 'vit_b_32', 'vit_l_16', 'vit_l_32', 'vit_h_14'] as const;
/** Allowed error, relative to the largest |logit| of the golden. */
const RTOL = 1e-5;

type Arch = typeof ARCHS[number];
const build = (arch: Arch, imageSize?: number) => models[arch]({ imageSize });

for (const arch of ARCHS) {
  test(`${arch} matches torchvision: state-dict keys and shapes, logits within ${RTOL} of the logit scale`, async (t) => {
    const golden = loadZooGolden(arch) as ReturnType<typeof loadZooGolden> & { build_args: { image_size: number } };
    const imageSize = golden.build_args.image_size;
    assert.deepEqual(golden.input_shape, [2, 3, imageSize, imageSize]);
    const m = await skipInit(() => build(arch, imageSize));
    assertSameKeys(arch, m.stateDict(), golden);
    m.loadStateDict(deterministicStateDict(keysOf(m.stateDict())));
    m.eval();
    const shape = golden.input_shape!;
    const out = await m.forward(tensor(deterministicInput(shape), shape)).data();
    const relative = assertLogits(arch, out, golden, RTOL);
    t.diagnostic(`${arch}: max |graft - torchvision| = ${relative.toExponential(2)} of max |logit| ${golden.max_abs}`);
  });
}

test('a ViT is built for 224 x 224 by default and refuses another input size, naming the one it was built for', async () => {
  const m = await skipInit(() => models.vit_b_32());
  assert.deepEqual([...m.encoder.pos_embedding.shape], [1, 50, 768]);
  assert.equal(m.imageSize, 224);
  assert.throws(() => m.forward(tensor(new Float32Array(3 * 64 * 64), [1, 3, 64, 64])), /expected \[batch, 3, 224, 224\] images/);
  await assert.rejects(models.vit_b_16({ imageSize: 100 }), /Expected a multiple of the patch size 16 for imageSize but received 100/);
});

afterEach(() => (globalThis as { gc?: () => void }).gc?.());
