// ConvNeXt, EfficientNet and EfficientNetV2 against torchvision: same state-dict keys, shapes and
// order, and the same logits for a deterministic input with deterministic weights. Goldens in
// test/fixtures/zoo/<arch>.json from scripts/make_zoo_goldens.py, at the smallest input these
// families accept ([2, 3, 32, 32]).
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';

import { models, tensor } from '../src/index.ts';
import type { StateDict } from '../src/nn/state-dict.ts';
import { skipInit } from '../src/nn/init.ts';
import { deterministicInput, deterministicStateDict } from './support/deterministic.ts';

/** Run forward: small enough to build and run in a test. */
const RUN = [
  'convnext_tiny', 'convnext_small',
  'efficientnet_b0', 'efficientnet_b1', 'efficientnet_b2', 'efficientnet_b3', 'efficientnet_b4', 'efficientnet_v2_s',
] as const;
/**
 * Keys and shapes only: 30M to 198M parameters, too many to fill and run within the test budget
 * (their blocks are the ones above, at other widths and depths).
 */
const KEYS_ONLY = ['convnext_base', 'convnext_large', 'efficientnet_b5', 'efficientnet_b6', 'efficientnet_b7', 'efficientnet_v2_m', 'efficientnet_v2_l'] as const;

const NUM_CLASSES = 1000;
/** Allowed error, relative to the largest |logit| of the golden. */
const RTOL = 1e-5;

interface Golden { arch: string; input_shape: number[]; keys: [string, number[]][]; logits: number[][]; max_abs: number }
interface ZooModule {
  stateDict(): StateDict;
  loadStateDict(sd: StateDict): unknown;
  eval(): unknown;
  forward(x: ReturnType<typeof tensor>): { data(): Promise<Float32Array> };
}
type Builder = () => Promise<ZooModule>;

function loadGolden(arch: string): Golden {
  const url = new URL(`./fixtures/zoo/${arch}.json`, import.meta.url);
  const hint = `regenerate it with \`python3 scripts/make_zoo_goldens.py ${arch}\` (needs torch and torchvision 0.14)`;
  if (!existsSync(url)) assert.fail(`golden file test/fixtures/zoo/${arch}.json is missing: ${hint}`);
  const g = JSON.parse(readFileSync(url, 'utf8')) as Golden;
  assert.equal(g.arch, arch, `test/fixtures/zoo/${arch}.json is for '${g.arch}': ${hint}`);
  return g;
}

// Nothing drawn at build time: the deterministic state dict replaces every value.
const build = (arch: string) => skipInit(() => (models as unknown as Record<string, Builder>)[arch]());
const keysOf = (sd: StateDict): [string, number[]][] => [...sd].map(([k, v]) => [k, [...v.shape]]);
const fmt = ([k, s]: [string, number[]]) => `${k} [${s.join(', ')}]`;

/** Every difference between graft's keys and torchvision's, in order: names, shapes, position. */
function assertSameKeys(arch: string, ours: [string, number[]][], theirs: [string, number[]][]): void {
  const mine = new Set(ours.map(fmt));
  const golden = new Set(theirs.map(fmt));
  const missing = theirs.map(fmt).filter((k) => !mine.has(k));
  const unexpected = ours.map(fmt).filter((k) => !golden.has(k));
  assert.deepEqual({ missing, unexpected }, { missing: [], unexpected: [] }, `${arch}: state dict differs from torchvision's`);
  const i = ours.findIndex(([k], j) => k !== theirs[j][0]);
  assert.equal(i, -1, `${arch}: key order differs at #${i}`);
}

for (const arch of KEYS_ONLY) {
  test(`${arch}: state-dict keys and shapes match torchvision (no forward: too large for the test budget)`, async () => {
    const golden = loadGolden(arch);
    assertSameKeys(arch, keysOf((await build(arch)).stateDict()), golden.keys);
  });
}

for (const arch of RUN) {
  test(`${arch} matches torchvision: state-dict keys and shapes, logits within ${RTOL} of the logit scale`, async (t) => {
    const golden = loadGolden(arch);
    const m = await build(arch);
    const keys = keysOf(m.stateDict());
    assertSameKeys(arch, keys, golden.keys);
    m.loadStateDict(deterministicStateDict(keys));
    m.eval();
    const shape = golden.input_shape;
    const out = await m.forward(tensor(deterministicInput(shape), shape)).data();
    assert.equal(out.length, shape[0] * NUM_CLASSES, `${arch}: number of logits`);
    let worst = 0;
    let at = 0;
    for (let i = 0; i < out.length; i++) {
      const err = Math.abs(out[i] - golden.logits[Math.floor(i / NUM_CLASSES)][i % NUM_CLASSES]);
      if (!(err <= worst)) { worst = err; at = i; if (Number.isNaN(err)) break; }
    }
    t.diagnostic(`${arch}: max |graft - torchvision| = ${worst.toExponential(3)} (${(worst / golden.max_abs).toExponential(2)} of max |logit| ${golden.max_abs})`);
    const [row, col] = [Math.floor(at / NUM_CLASSES), at % NUM_CLASSES];
    assert.ok(worst <= RTOL * golden.max_abs,
      `${arch}: logits differ by ${worst} at [${row}, ${col}] (graft ${out[at]}, torchvision ${golden.logits[row][col]}); allowed ${RTOL} x ${golden.max_abs}`);
  });
}

afterEach(() => (globalThis as { gc?: () => void }).gc?.());
