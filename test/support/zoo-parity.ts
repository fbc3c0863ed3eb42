/**
 * A zoo builder against its torchvision golden (test/fixtures/zoo/<arch>.json, written by
 * scripts/make_zoo_goldens.py): the same state-dict keys, shapes and order, and the same logits
 * for the deterministic input with the deterministic weights (no real weights needed).
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';

import { models, tensor } from '../../src/index.ts';
import type { StateDict } from '../../src/nn/state-dict.ts';
import { skipInit } from '../../src/nn/init.ts';
import { deterministicInput, deterministicStateDict } from './deterministic.ts';

export interface ZooGolden {
  arch: string;
  input_shape: number[];
  keys: [string, number[]][];
  logits: number[][];
  max_abs: number;
}

/** The slice of the public models API these checks rely on. */
export interface ZooModule {
  stateDict(): StateDict;
  loadStateDict(sd: StateDict, opts?: { strict?: boolean }): unknown;
  eval(): unknown;
  forward(x: ReturnType<typeof tensor>): { data(): Promise<Float32Array> };
}

const NUM_CLASSES = 1000;

export function loadZooGolden(arch: string): ZooGolden {
  const hint = `regenerate it with \`python3 scripts/make_zoo_goldens.py ${arch}\` (needs torch and torchvision 0.14)`;
  const url = new URL(`../fixtures/zoo/${arch}.json`, import.meta.url);
  if (!existsSync(url)) assert.fail(`golden file test/fixtures/zoo/${arch}.json is missing: ${hint}`);
  const g = JSON.parse(readFileSync(url, 'utf8')) as ZooGolden;
  assert.equal(g.arch, arch, `test/fixtures/zoo/${arch}.json is for '${g.arch}': ${hint}`);
  return g;
}

/** `models.<arch>()`, random weights. */
export async function buildZooModel(arch: string): Promise<ZooModule> {
  const b = (models as unknown as Record<string, (() => Promise<ZooModule>) | undefined>)[arch];
  assert.equal(typeof b, 'function', `models.${arch} is not a function`);
  // Nothing drawn at build time: the deterministic state dict replaces every value.
  return skipInit(() => b!());
}

const keysOf = (sd: StateDict): [string, number[]][] => [...sd].map(([k, v]) => [k, [...v.shape]]);
const fmt = (s: readonly number[]) => `[${s.join(', ')}]`;

/** Fails naming every missing, unexpected or reshaped key, or the first place the order differs. */
export function assertSameKeys(arch: string, m: ZooModule, golden: ZooGolden): void {
  const ours = keysOf(m.stateDict());
  const theirs = golden.keys;
  const ourMap = new Map(ours);
  const theirMap = new Map(theirs);
  const problems: string[] = [];
  const missing = theirs.filter(([k]) => !ourMap.has(k)).map(([k, s]) => `${k} ${fmt(s)}`);
  const unexpected = ours.filter(([k]) => !theirMap.has(k)).map(([k, s]) => `${k} ${fmt(s)}`);
  const shapes = theirs.filter(([k, s]) => ourMap.has(k) && fmt(ourMap.get(k)!) !== fmt(s))
    .map(([k, s]) => `${k}: graft ${fmt(ourMap.get(k)!)} vs torchvision ${fmt(s)}`);
  if (missing.length) problems.push(`missing keys (${missing.length}): ${missing.join(', ')}`);
  if (unexpected.length) problems.push(`unexpected keys (${unexpected.length}): ${unexpected.join(', ')}`);
  if (shapes.length) problems.push(`shape mismatches (${shapes.length}): ${shapes.join('; ')}`);
  if (problems.length === 0) {
    // The order matters too: it seeds the deterministic weights and is the order checkpoints are written in.
    const i = ours.findIndex(([k], j) => k !== theirs[j][0]);
    if (i >= 0) problems.push(`key order differs at #${i}: graft '${ours[i][0]}' vs torchvision '${theirs[i][0]}'`);
  }
  assert.ok(problems.length === 0, `${arch}: state dict differs from torchvision's\n  ${problems.join('\n  ')}`);
}

/**
 * Loads the deterministic weights, runs the golden's input in eval mode and fails unless every
 * logit is within `rtol` of the golden's largest |logit|. Returns the worst error, relative.
 */
export async function assertSameLogits(arch: string, m: ZooModule, golden: ZooGolden, rtol: number): Promise<number> {
  const shape = golden.input_shape;
  m.loadStateDict(deterministicStateDict(keysOf(m.stateDict())));
  m.eval();
  const out = await m.forward(tensor(deterministicInput(shape), shape)).data();
  assert.equal(out.length, shape[0] * NUM_CLASSES, `${arch}: number of logits`);
  let worst = 0;
  let at = 0;
  for (let i = 0; i < out.length; i++) {
    const err = Math.abs(out[i] - golden.logits[Math.floor(i / NUM_CLASSES)][i % NUM_CLASSES]);
    if (!(err <= worst)) { // also catches NaN
      worst = err;
      at = i;
      if (Number.isNaN(err)) break;
    }
  }
  const [row, col] = [Math.floor(at / NUM_CLASSES), at % NUM_CLASSES];
  assert.ok(worst <= rtol * golden.max_abs,
    `${arch}: logits differ from torchvision by ${worst} at [${row}, ${col}] (graft ${out[at]}, torchvision ${golden.logits[row][col]}); ` +
    `allowed ${rtol} x max |logit| ${golden.max_abs}`);
  return worst / golden.max_abs;
}
