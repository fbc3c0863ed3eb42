import { join } from 'node:path';
import { readSafetensorsBuffer, readSafetensorsMetadata, encodeSafetensors } from '../../formats/safetensors.ts';
import type { SkippedFile } from '../../data/datasets/dataset.ts';
import type { Embeddings } from '../../train/embeddings.ts';

const FORMAT = 'graft-feature-shard/1';

/** Where a features folder keeps shard `name`: a deterministic name, so a rerun finds it done. */
export const featureShardPath = (out: string, name: string) => join(out, 'shards', `${name}.safetensors`);

/** One shard's features as read back: `features` is [views, count, dim], row i the shard's item i. */
export interface FeatureShard { dim: number; views: number; features: Float32Array; usable: Uint8Array; skipped: SkippedFile[] }

/**
 * A shard as safetensors: tensor "features" [views, count, dim] (float32) and "usable" [count]
 * (1 where the image decoded), the items' SHA-256 in the metadata, so other tools (safetensors
 * in Python, say) read it and graft can tell it belongs where it is found.
 */
export function encodeFeatureShard(name: string, digests: readonly (string | null)[], emb: Embeddings, views: number): Uint8Array[] {
  const n = digests.length;
  const features = new Float32Array(views * n * emb.dim);
  emb.views.forEach((v, k) => features.set(v, k * n * emb.dim));
  const tensors = new Map([
    ['features', { dtype: 'float32' as const, shape: [views, n, emb.dim], data: features }],
    ['usable', { dtype: 'float32' as const, shape: [n], data: Float32Array.from(emb.usable) }],
  ]);
  return encodeSafetensors(tensors, {
    format: FORMAT, shard: name, sha256: JSON.stringify(digests), skipped: JSON.stringify(emb.skipped.map((s) => ({ file: s.file, reason: s.reason }))),
  });
}

/**
 * Reads a shard and checks it is shard `name` of these items with `views` views: a file from
 * another run, a truncated copy or a hand edit is refused with the file and the reason.
 */
export function decodeFeatureShard(bytes: Uint8Array, path: string, expect: { name: string; digests: readonly (string | null)[]; views: number }): FeatureShard {
  const fail = (why: string) => new RangeError(`${path} is not the feature shard expected here: ${why}`);
  const meta = readSafetensorsMetadata(bytes, path);
  if (meta.format !== FORMAT) throw fail(`its metadata names format ${JSON.stringify(meta.format)}, not ${FORMAT}`);
  if (meta.shard !== expect.name) throw fail(`it is shard ${JSON.stringify(meta.shard)}, not ${expect.name}`);
  if (meta.sha256 !== JSON.stringify(expect.digests)) throw fail('its images (by SHA-256) are not the ones planned for it');
  const tensors = readSafetensorsBuffer(bytes, path);
  const features = tensors.get('features');
  const usable = tensors.get('usable');
  const n = expect.digests.length;
  if (features?.dtype !== 'float32' || features.shape.length !== 3 || features.shape[0] !== expect.views || features.shape[1] !== n) {
    throw fail(`"features" should be float32 [${expect.views}, ${n}, dim] but is ${features ? `${features.dtype} [${features.shape}]` : 'missing'}`);
  }
  if (usable?.dtype !== 'float32' || usable.shape.length !== 1 || usable.shape[0] !== n || usable.data.some((u) => u !== 0 && u !== 1)) {
    throw fail(`"usable" should be float32 [${n}] of 0 and 1 but is ${usable ? `${usable.dtype} [${usable.shape}]` : 'missing'}`);
  }
  let skipped: SkippedFile[];
  try {
    skipped = (JSON.parse(meta.skipped ?? '[]') as { file: unknown; reason: unknown }[]).map((s) => ({ file: String(s.file), reason: String(s.reason) }));
  } catch {
    throw fail('its "skipped" metadata is not a JSON list');
  }
  return { dim: features.shape[2], views: expect.views, features: features.data, usable: Uint8Array.from(usable.data), skipped };
}
