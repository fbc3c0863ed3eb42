// torchvision's Swin and Swin V2 against torchvision: the same state-dict keys, shapes and order
// (the attention's persistent index and offsets buffers included, with their values), and the same
// logits for a deterministic input with deterministic weights. The goldens
// (test/fixtures/zoo/<arch>.json, scripts/make_zoo_goldens.py) run at 68 x 68, where every patch
// merging pads an odd side, the first two stages pad to whole windows and shift them, and the
// last two fit in one window, where the shift is off; swin_t's and swin_v2_t's also on an image
// wider than high, whose windows shift along the width alone.
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';

import { models, tensor } from '../src/index.ts';
import { skipInit } from '../src/nn/init.ts';
import { deterministicInput, deterministicStateDict, withOwnBuffers } from './support/deterministic.ts';
import { assertLogits, assertSameKeys, keysOf, loadZooGolden, type LogitsGolden } from './support/zoo-golden.ts';

const ARCHS = ['swin_t', 'swin_s', 'swin_b', 'swin_v2_t', 'swin_v2_s', 'swin_v2_b'] as const;
/** Allowed error, relative to the largest |logit| of the golden. */
const RTOL = 1e-5;

for (const arch of ARCHS) {
  test(`${arch} matches torchvision: state-dict keys, shapes and computed buffers, logits within ${RTOL} of the logit scale`, async (t) => {
    const golden = loadZooGolden(arch) as ReturnType<typeof loadZooGolden> & { buffers: Record<string, number[]>; extra?: LogitsGolden[] };
    assert.deepEqual(golden.input_shape, [2, 3, 68, 68]);
    const m = await skipInit(() => models[arch]());
    const own = m.stateDict();
    assertSameKeys(arch, own, golden);
    const buffers = Object.entries(golden.buffers);
    assert.equal(buffers.length, arch.includes('v2') ? 2 : 1);
    for (const [key, values] of buffers) {
      const mine = Array.from(own.get(key)!.data as ArrayLike<number | bigint>, Number);
      const worst = Math.max(...mine.map((v, i) => Math.abs(v - values[i])));
      assert.ok(mine.length === values.length && worst <= 1e-6, `${arch}: ${key} differs from torchvision's by up to ${worst}`);
    }
    m.loadStateDict(withOwnBuffers(own, deterministicStateDict(keysOf(own))));
    m.eval();
    const shape = golden.input_shape!;
    const out = await m.forward(tensor(deterministicInput(shape), shape)).data();
    const relative = assertLogits(arch, out, golden, RTOL);
    t.diagnostic(`${arch}: max |graft - torchvision| = ${relative.toExponential(2)} of max |logit| ${golden.max_abs}`);
    for (const extra of golden.extra ?? []) {
      const logits = await m.forward(tensor(deterministicInput(extra.input_shape), extra.input_shape)).data();
      const worst = assertLogits(`${arch} at [${extra.input_shape}]`, logits, { ...golden, ...extra }, RTOL);
      t.diagnostic(`${arch} at [${extra.input_shape}]: max |graft - torchvision| = ${worst.toExponential(2)} of max |logit| ${extra.max_abs}`);
    }
    assert.equal(golden.extra?.length ?? 0, arch.endsWith('_t') ? 1 : 0);
  });
}

afterEach(() => (globalThis as { gc?: () => void }).gc?.());
