// ShuffleNetV2, MNASNet and the ResNet family's 101-layer ResNeXt and Wide ResNet against
// torchvision (test/support/zoo-parity.ts): state-dict keys, shapes and order, and logits within
// 1e-5 of the logit scale, from goldens at [2, 3, 32, 32] (scripts/make_zoo_goldens.py).
import { afterEach, test } from 'node:test';

import { assertSameKeys, assertSameLogits, buildZooModel, loadZooGolden } from './support/zoo-parity.ts';

/** Built, filled and run. */
const RUN = [
  'shufflenet_v2_x0_5', 'shufflenet_v2_x1_0', 'shufflenet_v2_x1_5', 'shufflenet_v2_x2_0',
  'mnasnet0_5', 'mnasnet0_75', 'mnasnet1_0', 'mnasnet1_3',
] as const;
/**
 * Keys and shapes only: 83M to 127M parameters, whose random initialization alone takes most of
 * the test budget; their blocks and grouped convolutions run in resnext50_32x4d's and
 * wide_resnet50_2's parity tests and in the grouped-convolution op tests.
 */
const KEYS_ONLY = ['resnext101_32x8d', 'resnext101_64x4d', 'wide_resnet101_2'] as const;

const RTOL = 1e-5;

for (const arch of RUN) {
  test(`${arch} matches torchvision: state-dict keys and logits`, async (t) => {
    const golden = loadZooGolden(arch);
    const m = await buildZooModel(arch);
    assertSameKeys(arch, m, golden);
    const worst = await assertSameLogits(arch, m, golden, RTOL);
    t.diagnostic(`${arch}: max |graft - torchvision| is ${worst.toExponential(2)} of max |logit|`);
  });
}

for (const arch of KEYS_ONLY) {
  test(`${arch} matches torchvision: state-dict keys and shapes (no forward)`, async () => {
    assertSameKeys(arch, await buildZooModel(arch), loadZooGolden(arch));
  });
}

// One model at a time: let the previous one's weights go (gc only under --expose-gc).
afterEach(() => (globalThis as { gc?: () => void }).gc?.());
