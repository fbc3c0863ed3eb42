import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';
import { checkChoice, checkInteger, checkString, invalidType } from '../../errors/index.ts';
import { SampleList } from '../../data/datasets/dataset.ts';
import type { DatasetSplits } from '../../data/datasets/folders.ts';
import type { Preprocessing } from '../../models/catalog.ts';
import { writeFileAtomic } from '../../formats/atomic-write.ts';
import type { AugmentLevel } from '../../train/augment.ts';
import type { Embeddings } from '../../train/embeddings.ts';
import type { PrecomputedFeatures } from '../../train/precomputed.ts';
import { decodeFeatureShard, featureShardPath } from './feature-shard.ts';

/** The file that makes a folder of shards a features folder; written last, once every shard is there. */
export const FEATURES_MANIFEST = 'manifest.json';
const FORMAT = 'graft-features';

export interface ManifestFile { file: string; label: number; sha256: string | null }
export interface ManifestShard { name: string; start: number; count: number; bytes: number; sha256: string }
export interface ManifestSplit { files: ManifestFile[]; shards: ManifestShard[] }

/**
 * What a features folder holds and how it was computed: the images (relative to `root`, with
 * labels and content hashes), the model and its digest, the preprocessing and transforms, and
 * each shard with its size and SHA-256, so a reader can check every file before using it.
 */
export interface FeaturesManifest {
  format: typeof FORMAT;
  version: 1;
  model: string;
  weights: string | null;
  model_digest: string;
  seed: number;
  augment: AugmentLevel;
  views: number;
  pixels: number;
  preprocessing: Preprocessing;
  transforms: { train: string; val: string };
  dim: number;
  classes: string[];
  root: string;
  source: DatasetSplits['source'];
  splits: { train: ManifestSplit; val: ManifestSplit };
}

export const relativeFile = (root: string, file: string) => relative(root, file).split(sep).join('/');

/** Writes the manifest of a features folder whose shards are all there, with each shard's size and hash. */
export async function writeFeaturesManifest(out: string, m: Omit<FeaturesManifest, 'format' | 'version' | 'dim' | 'splits'>, splits: Record<'train' | 'val', { files: ManifestFile[]; shards: { name: string; start: number; count: number }[] }>): Promise<string> {
  let dim = 0;
  const described: Partial<Record<'train' | 'val', ManifestSplit>> = {};
  for (const split of ['train', 'val'] as const) {
    const shards: ManifestShard[] = [];
    for (const s of splits[split].shards) {
      const path = featureShardPath(out, s.name);
      const bytes = await readFile(path);
      const views = split === 'train' ? m.views : 1;
      const shard = decodeFeatureShard(bytes, path, { name: s.name, digests: splits[split].files.slice(s.start, s.start + s.count).map((f) => f.sha256), views });
      dim = Math.max(dim, shard.dim);
      shards.push({ ...s, bytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') });
    }
    described[split] = { files: splits[split].files, shards };
  }
  const manifest: FeaturesManifest = { format: FORMAT, version: 1, ...m, dim, splits: described as FeaturesManifest['splits'] };
  const path = join(out, FEATURES_MANIFEST);
  await writeFileAtomic(path, [Buffer.from(`${JSON.stringify(manifest, null, 1)}\n`)]);
  return path;
}

/** A features folder read back and checked: the splits it describes and their features. */
export interface FeaturesFolder { manifest: FeaturesManifest; splits: DatasetSplits; features: PrecomputedFeatures }

/**
 * Reads a features folder, from any disk: the manifest is checked field by field, and every shard
 * against it (size, SHA-256, then its own header and images), before any feature is used.
 */
export async function readFeaturesFolder(dir: string): Promise<FeaturesFolder> {
  const path = join(dir, FEATURES_MANIFEST);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new Error(`${dir} is not a complete features folder: cannot read ${path} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); graft embed writes it once every shard is done`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new RangeError(`${path} is not JSON`);
  }
  const manifest = checkManifest(parsed, path);
  const read = async (split: 'train' | 'val'): Promise<Embeddings> => {
    const entry = manifest.splits[split];
    const views = split === 'train' ? manifest.views : 1;
    const n = entry.files.length;
    const emb: Embeddings = { views: Array.from({ length: views }, () => new Float32Array(n * manifest.dim)), dim: manifest.dim, usable: new Uint8Array(n), skipped: [], cacheHits: 0 };
    let next = 0;
    for (const s of entry.shards) {
      const file = featureShardPath(dir, s.name);
      const where = `${file} (shard ${s.name} of ${path})`;
      if (s.start !== next || s.start + s.count > n) throw new RangeError(`${path}: ${split} shard ${s.name} covers images ${s.start} to ${s.start + s.count - 1}, but the shards before it end at ${next - 1} of ${n}`);
      next = s.start + s.count;
      const bytes = await readFile(file).catch((e: NodeJS.ErrnoException) => { throw new Error(`Cannot read ${where}: ${e.code ?? e.message}`); });
      if (bytes.length !== s.bytes) throw new RangeError(`${where} has ${bytes.length} bytes but the manifest says ${s.bytes} (cut short or replaced?)`);
      const hash = createHash('sha256').update(bytes).digest('hex');
      if (hash !== s.sha256) throw new RangeError(`${where} has SHA-256 ${hash.slice(0, 16)}... but the manifest says ${s.sha256.slice(0, 16)}... (damaged or replaced)`);
      const shard = decodeFeatureShard(bytes, where, { name: s.name, digests: entry.files.slice(s.start, next).map((f) => f.sha256), views });
      const usable = shard.usable.some(Boolean);
      if (usable && shard.dim !== manifest.dim) throw new RangeError(`${where} holds ${shard.dim} features per image but the manifest says ${manifest.dim}`);
      emb.usable.set(shard.usable, s.start);
      if (usable) for (let v = 0; v < views; v++) emb.views[v].set(shard.features.subarray(v * s.count * shard.dim, (v + 1) * s.count * shard.dim), s.start * manifest.dim);
      emb.skipped.push(...shard.skipped);
    }
    if (next !== n) throw new RangeError(`${path}: the ${split} shards cover ${next} of its ${n} images`);
    return emb;
  };
  const train = await read('train');
  const val = await read('val');
  const samples = (split: 'train' | 'val') => manifest.splits[split].files.map((f) => ({ path: resolve(manifest.root, f.file), target: f.label }));
  const trainRoot = manifest.source === 'split' ? manifest.root : join(manifest.root, 'train');
  const splits: DatasetSplits = {
    train: new SampleList(trainRoot, manifest.classes, samples('train')),
    val: new SampleList(join(manifest.root, 'val'), manifest.classes, samples('val')),
    classes: manifest.classes,
    source: manifest.source,
  };
  const features: PrecomputedFeatures = { source: dir, backbone: manifest.model_digest, transforms: manifest.transforms, pixels: manifest.pixels, seed: manifest.seed, train, val };
  return { manifest, splits, features };
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function checkManifest(m: unknown, path: string): FeaturesManifest {
  if (!isRecord(m) || m.format !== FORMAT) throw new RangeError(`${path} is not a graft features manifest (format ${JSON.stringify(isRecord(m) ? m.format : m)}, expected "${FORMAT}")`);
  const f = (k: string) => `${k} in ${path}`;
  checkInteger(f('version'), m.version, { min: 1, max: 1 });
  checkString(f('model'), m.model, 'a model spec');
  if (m.weights !== null) checkString(f('weights'), m.weights, 'a weights variant, a file or null');
  checkString(f('model_digest'), m.model_digest, 'a digest');
  checkInteger(f('seed'), m.seed, { min: 0 });
  checkChoice(f('augment'), m.augment, ['none', 'light', 'standard'] as const);
  checkInteger(f('views'), m.views, { min: 1 });
  checkInteger(f('pixels'), m.pixels, { min: 0 });
  checkInteger(f('dim'), m.dim, { min: 0, max: 1 << 20 });
  checkString(f('root'), m.root, 'a folder');
  checkChoice(f('source'), m.source, ['folders', 'train-split', 'split'] as const);
  if (!isRecord(m.preprocessing)) throw invalidType(f('preprocessing'), 'an object', m.preprocessing);
  if (!isRecord(m.transforms)) throw invalidType(f('transforms'), 'an object {train, val}', m.transforms);
  checkString(f('transforms.train'), m.transforms.train, 'a transform spec');
  checkString(f('transforms.val'), m.transforms.val, 'a transform spec');
  if (!Array.isArray(m.classes) || m.classes.some((c) => typeof c !== 'string')) throw invalidType(f('classes'), 'a list of class names', m.classes);
  if (!isRecord(m.splits)) throw invalidType(f('splits'), 'an object {train, val}', m.splits);
  for (const split of ['train', 'val'] as const) {
    const s = m.splits[split];
    if (!isRecord(s) || !Array.isArray(s.files) || !Array.isArray(s.shards)) throw invalidType(f(`splits.${split}`), 'an object {files: [...], shards: [...]}', s);
    s.files.forEach((x: unknown, i) => {
      const at = f(`splits.${split}.files[${i}]`);
      if (!isRecord(x)) throw invalidType(at, 'an object {file, label, sha256}', x);
      checkString(`${at}.file`, x.file, 'a path');
      checkInteger(`${at}.label`, x.label, { min: 0, max: (m.classes as string[]).length - 1 });
      if (x.sha256 !== null) checkString(`${at}.sha256`, x.sha256, 'a SHA-256 or null');
    });
    s.shards.forEach((x: unknown, i) => {
      const at = f(`splits.${split}.shards[${i}]`);
      if (!isRecord(x)) throw invalidType(at, 'an object {name, start, count, bytes, sha256}', x);
      if (typeof x.name !== 'string' || !/^[0-9a-f]{32}$/.test(x.name)) throw invalidType(`${at}.name`, '32 hex digits', x.name);
      checkInteger(`${at}.start`, x.start, { min: 0 });
      checkInteger(`${at}.count`, x.count, { min: 1 });
      checkInteger(`${at}.bytes`, x.bytes, { min: 8 });
      checkString(`${at}.sha256`, x.sha256, 'a SHA-256');
    });
  }
  return m as unknown as FeaturesManifest;
}
