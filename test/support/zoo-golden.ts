/**
 * The goldens of scripts/make_zoo_goldens.py (test/fixtures/zoo/<arch>.json) and the comparisons a
 * parity test makes with them: state-dict keys, shapes and order, and logits relative to their
 * largest magnitude.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';

import type { StateDict } from '../../src/nn/state-dict.ts';

export interface LogitsGolden { input_shape: number[]; logits: number[][]; max_abs: number }
export interface ZooGolden {
  arch: string;
  keys: [string, number[]][];
  /** Absent for architectures too big to run in a test (the script's KEYS_ONLY). */
  input_shape?: number[];
  logits?: number[][];
  max_abs?: number;
  /** Auxiliary classifiers that an eval forward never runs, each on its own input. */
  aux?: (LogitsGolden & { module: string })[];
  torch_version: string;
  torchvision_version: string;
}

export function regenerateHint(arch: string): string {
  return `regenerate it with \`python3 scripts/make_zoo_goldens.py ${arch}\` (needs torch and torchvision 0.14)`;
}

export function loadZooGolden(arch: string): ZooGolden {
  const url = new URL(`../fixtures/zoo/${arch}.json`, import.meta.url);
  if (!existsSync(url)) assert.fail(`golden file test/fixtures/zoo/${arch}.json is missing: ${regenerateHint(arch)}`);
  const g = JSON.parse(readFileSync(url, 'utf8')) as ZooGolden;
  assert.equal(g.arch, arch, `test/fixtures/zoo/${arch}.json is for '${g.arch}': ${regenerateHint(arch)}`);
  return g;
}

const fmtShape = (s: readonly number[]): string => `[${s.join(', ')}]`;

export function keysOf(sd: StateDict): [string, number[]][] {
  return [...sd].map(([k, v]) => [k, [...v.shape]]);
}

/** Differences between graft's state-dict keys and torchvision's, by name; empty when equal. */
export function keyProblems(ours: [string, number[]][], theirs: [string, number[]][]): string[] {
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

export function assertSameKeys(arch: string, sd: StateDict, golden: ZooGolden): void {
  const problems = keyProblems(keysOf(sd), golden.keys);
  assert.ok(problems.length === 0, `${arch}: state dict differs from torchvision's\n  ${problems.join('\n  ')}`);
}

/**
 * The largest |graft - torchvision| over the logits must be within `rtol` of the golden's largest
 * |logit|; returns that difference relative to it.
 */
export function assertLogits(arch: string, out: Float32Array, golden: ZooGolden, rtol: number): number {
  const logits = golden.logits;
  assert.ok(logits && golden.max_abs !== undefined, `${arch}: the golden has no logits: ${regenerateHint(arch)}`);
  const classes = logits[0].length;
  assert.equal(out.length, logits.length * classes, `${arch}: number of logits`);
  let worst = 0;
  let worstIndex = 0;
  for (let i = 0; i < out.length; i++) {
    const err = Math.abs(out[i] - logits[Math.floor(i / classes)][i % classes]);
    if (!(err <= worst)) { // also catches NaN
      worst = err;
      worstIndex = i;
      if (Number.isNaN(err)) break;
    }
  }
  const [row, col] = [Math.floor(worstIndex / classes), worstIndex % classes];
  const tol = rtol * golden.max_abs;
  assert.ok(
    worst <= tol,
    `${arch}: logits differ from torchvision by ${worst} at [${row}, ${col}] ` +
      `(graft ${out[worstIndex]}, torchvision ${logits[row][col]}); allowed ${tol} = ${rtol} x max |logit| ${golden.max_abs}`,
  );
  return worst / golden.max_abs;
}

/** The largest |graft - torchvision| over the logits (NaN when graft has one), and where. */
export function worstLogit(out: Float32Array, golden: LogitsGolden): { err: number; row: number; col: number; got: number; want: number } {
  const cols = golden.logits[0].length;
  assert.equal(out.length, golden.logits.length * cols, 'number of logits');
  let worst = { err: 0, row: 0, col: 0, got: out[0], want: golden.logits[0][0] };
  for (let i = 0; i < out.length; i++) {
    const [row, col] = [Math.floor(i / cols), i % cols];
    const err = Math.abs(out[i] - golden.logits[row][col]);
    if (!(err <= worst.err)) {
      worst = { err, row, col, got: out[i], want: golden.logits[row][col] };
      if (Number.isNaN(err)) break;
    }
  }
  return worst;
}
