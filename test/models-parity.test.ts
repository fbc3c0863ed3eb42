// Every zoo model against torchvision: same state-dict keys and shapes, and the same logits for a
// deterministic input with deterministic weights (no real weights needed). The goldens in
// test/fixtures/zoo/<arch>.json were produced by PyTorch with scripts/make_zoo_goldens.py.
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';

import { models, tensor } from '../src/index.ts';
import type { StateDict } from '../src/nn/state-dict.ts';
import { deterministicInput, deterministicStateDict } from './support/deterministic.ts';

const ZOO = [
  'resnet18', 'resnet34', 'resnet50', 'resnet101', 'resnet152',
  'resnext50_32x4d', 'wide_resnet50_2',
  'vgg11', 'vgg11_bn', 'vgg13', 'vgg13_bn', 'vgg16', 'vgg16_bn', 'vgg19', 'vgg19_bn',
  'mobilenet_v2', 'mobilenet_v3_small', 'mobilenet_v3_large',
] as const;

const INPUT_SHAPE = [2, 3, 64, 64];
const NUM_CLASSES = 1000;
/** Allowed error, relative to the largest |logit| of the golden. */
const RTOL = 1e-4;

interface Golden {
  arch: string;
  input_shape: number[];
  keys: [string, number[]][];
  logits: number[][];
  max_abs: number;
  torch_version: string;
  torchvision_version: string;
}

/** The slice of the public models API this test relies on. */
interface ZooModule {
  stateDict(): StateDict;
  loadStateDict(sd: StateDict, opts?: { strict?: boolean }): unknown;
  eval(): unknown;
  forward(x: ReturnType<typeof tensor>): { data(): Promise<Float32Array> };
}
type Builder = (opts?: { numClasses?: number; weights?: string | null }) => Promise<ZooModule>;

function regenerateHint(arch: string): string {
  return `regenerate it with \`python3 scripts/make_zoo_goldens.py ${arch}\` (needs torch and torchvision 0.14)`;
}

function loadGolden(arch: string): Golden {
  const url = new URL(`./fixtures/zoo/${arch}.json`, import.meta.url);
  if (!existsSync(url)) {
    assert.fail(`golden file test/fixtures/zoo/${arch}.json is missing: ${regenerateHint(arch)}`);
  }
  const g = JSON.parse(readFileSync(url, 'utf8')) as Golden;
  assert.equal(g.arch, arch, `test/fixtures/zoo/${arch}.json is for '${g.arch}': ${regenerateHint(arch)}`);
  return g;
}

function builder(arch: string): Builder {
  const b = (models as unknown as Record<string, Builder | undefined>)[arch];
  assert.equal(typeof b, 'function', `models.${arch} is not a function`);
  return b!;
}

const fmtShape = (s: readonly number[]): string => `[${s.join(', ')}]`;

/** Differences between graft's state-dict keys and torchvision's, by name; empty when equal. */
function keyProblems(ours: [string, number[]][], theirs: [string, number[]][]): string[] {
  const ourMap = new Map(ours);
  const theirMap = new Map(theirs);
  const missing = theirs.filter(([k]) => !ourMap.has(k)).map(([k, s]) => `${k} ${fmtShape(s)}`);
  const unexpected = ours.filter(([k]) => !theirMap.has(k)).map(([k, s]) => `${k} ${fmtShape(s)}`);
  const shapes = theirs
    .filter(([k, s]) => ourMap.has(k) && fmtShape(ourMap.get(k)!) !== fmtShape(s))
    .map(([k, s]) => `${k}: graft ${fmtShape(ourMap.get(k)!)} vs torchvision ${fmtShape(s)}`);
  const problems: string[] = [];
  if (missing.length) problems.push(`missing keys (${missing.length}): ${missing.join(', ')}`);
  if (unexpected.length) problems.push(`unexpected keys (${unexpected.length}): ${unexpected.join(', ')}`);
  if (shapes.length) problems.push(`shape mismatches (${shapes.length}): ${shapes.join('; ')}`);
  if (problems.length === 0) {
    // Same keys, same shapes: the order matters too (it seeds the deterministic weights and is
    // the order torchvision writes checkpoints in).
    const i = ours.findIndex(([k], j) => k !== theirs[j][0]);
    if (i >= 0) problems.push(`key order differs at #${i}: graft '${ours[i][0]}' vs torchvision '${theirs[i][0]}'`);
  }
  return problems;
}

function keysOf(sd: StateDict): [string, number[]][] {
  return [...sd].map(([k, v]) => [k, [...v.shape]]);
}

for (const arch of ZOO) {
  test(`${arch} matches torchvision`, async (t) => {
    const golden = loadGolden(arch);
    const m = await builder(arch)();

    await t.test('state-dict keys and shapes', () => {
      const problems = keyProblems(keysOf(m.stateDict()), golden.keys);
      assert.ok(problems.length === 0, `${arch}: state dict differs from torchvision's\n  ${problems.join('\n  ')}`);
    });

    await t.test('logits', async () => {
      assert.deepEqual(golden.input_shape, INPUT_SHAPE, `${arch}: golden input shape`);
      // Built from graft's own keys and order: the seeds follow the order, so an ordering
      // difference shows up here as wrong logits and in the keys subtest by name.
      m.loadStateDict(deterministicStateDict(keysOf(m.stateDict())));
      m.eval();
      const x = tensor(deterministicInput(INPUT_SHAPE), INPUT_SHAPE);
      const out = await m.forward(x).data();
      assert.equal(out.length, INPUT_SHAPE[0] * NUM_CLASSES, `${arch}: number of logits`);

      let worst = 0;
      let worstIndex = 0;
      for (let i = 0; i < out.length; i++) {
        const expected = golden.logits[Math.floor(i / NUM_CLASSES)][i % NUM_CLASSES];
        const err = Math.abs(out[i] - expected);
        if (!(err <= worst)) { // also catches NaN
          worst = err;
          worstIndex = i;
          if (Number.isNaN(err)) break;
        }
      }
      const tol = RTOL * golden.max_abs;
      const [row, col] = [Math.floor(worstIndex / NUM_CLASSES), worstIndex % NUM_CLASSES];
      t.diagnostic(`${arch}: max |graft - torchvision| = ${worst.toExponential(3)} ` +
        `(${(worst / golden.max_abs).toExponential(2)} of max |logit| ${golden.max_abs})`);
      assert.ok(
        worst <= tol,
        `${arch}: logits differ from torchvision by ${worst} at [${row}, ${col}] ` +
          `(graft ${out[worstIndex]}, torchvision ${golden.logits[row][col]}); ` +
          `allowed ${tol} = ${RTOL} x max |logit| ${golden.max_abs}`,
      );
    });
  });
}

// One model at a time: let the previous model's weights go (a vgg holds ~550 MB of them). gc is
// there only under --expose-gc; otherwise V8 collects when external memory grows.
afterEach(() => (globalThis as { gc?: () => void }).gc?.());
