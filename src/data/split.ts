import path from 'node:path';
import { checkNumber, invalidParameter } from '../errors/index.ts';
import { hashString } from './rng.ts';
import type { DatasetSample } from './datasets/dataset.ts';

export interface SplitOptions {
  /** Fraction of each class held out for validation. */
  valFraction?: number;
  testFraction?: number;
  seed?: number;
}

export interface Split {
  train: DatasetSample[];
  val: DatasetSample[];
  test: DatasetSample[];
}

/**
 * A stratified split decided per file from a hash of its path relative to `root` (with '/'
 * separators), so it is the same on every machine and a file keeps its side when files are added
 * or removed. Each class gets its fraction in expectation; a class with too few files to land one
 * in a split by chance gets its lowest-scoring file moved there, so no split misses a class.
 */
export function stratifiedSplit(samples: readonly DatasetSample[], root: string, options: SplitOptions = {}): Split {
  const val = checkNumber('valFraction', options.valFraction ?? 0.2, { min: 0, max: 1 });
  const test = checkNumber('testFraction', options.testFraction ?? 0, { min: 0, max: 1 });
  if (val + test >= 1) throw invalidParameter('valFraction + testFraction', 'a sum below 1', val + test);
  const seed = options.seed ?? 0;
  const byClass = new Map<string, { sample: DatasetSample; u: number }[]>();
  for (const sample of samples) {
    const rel = path.relative(root, sample.path).split(path.sep).join('/');
    const u = hashString(rel, seed) / 0x100000000;
    const key = JSON.stringify(sample.target);
    if (!byClass.has(key)) byClass.set(key, []);
    byClass.get(key)!.push({ sample, u });
  }
  const out: Split = { train: [], val: [], test: [] };
  const side = new Map<DatasetSample, keyof Split>();
  for (const members of byClass.values()) {
    for (const m of members) side.set(m.sample, m.u < test ? 'test' : m.u < test + val ? 'val' : 'train');
    ensureRepresented(members, side, 'test', test, 'train');
    ensureRepresented(members, side, 'val', val, 'train');
  }
  // Keep the input order within each side, so a split of a sorted folder stays sorted.
  for (const sample of samples) out[side.get(sample)!].push(sample);
  return out;
}

function ensureRepresented(members: { sample: DatasetSample; u: number }[], side: Map<DatasetSample, keyof Split>, target: keyof Split, fraction: number, from: keyof Split): void {
  if (fraction === 0 || members.some((m) => side.get(m.sample) === target)) return;
  const donors = members.filter((m) => side.get(m.sample) === from);
  if (donors.length < 2) return; // never empty the training side of a class
  const pick = donors.reduce((best, m) => (m.u < best.u ? m : best));
  side.set(pick.sample, target);
}
