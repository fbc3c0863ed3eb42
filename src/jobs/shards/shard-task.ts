import { checkChoice, checkInteger, checkString, invalidType } from '../../errors/index.ts';
import type { AugmentLevel } from '../../train/augment.ts';

/** One image of a shard: its path where the worker runs, and the SHA-256 of its bytes when planned (null: unreadable then). */
export interface ShardItem { file: string; sha256: string | null }

interface TaskBase {
  /** The shard's name: a hash of the model digest and its contents, and so the name of its output file. */
  shard: string;
  /** The folder the output goes to, as the worker sees it (a shared disk). */
  out: string;
  model: string;
  weights: string | null;
  /** The model's digest when the shard was planned: a worker whose model differs refuses the shard. */
  digest: string;
  items: ShardItem[];
}

/** Backbone features of a shard of one split: `views` augmented views (training) or one through the eval transform (validation). */
export interface EmbedTask extends TaskBase { kind: 'embed'; split: 'train' | 'val'; seed: number; augment: AugmentLevel; views: number }

/** Top-k predictions of a shard of images, one JSON line each. */
export interface PredictTask extends TaskBase { kind: 'predict'; topk: number; batchSize: number }

export type ShardTask = EmbedTask | PredictTask;

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * A task as it arrives from a queue, checked field by field: a queue is shared, and what is in it
 * may have been put there by another version of graft or by hand.
 */
export function checkShardTask(data: unknown, from: string): ShardTask {
  if (!isRecord(data)) throw invalidType(from, 'a shard task object', data);
  const field = (k: string) => `${from}.${k}`;
  const kind = checkChoice(field('kind'), data.kind, ['embed', 'predict'] as const);
  const shard = checkString(field('shard'), data.shard, 'a shard name');
  if (!/^[0-9a-f]{32}$/.test(shard)) throw new RangeError(`Expected 32 hex digits for ${field('shard')} but received ${JSON.stringify(shard)}`);
  const base: TaskBase = {
    shard,
    out: checkString(field('out'), data.out, 'an output folder'),
    model: checkString(field('model'), data.model, 'a model spec'),
    weights: data.weights === null ? null : checkString(field('weights'), data.weights, 'a weights variant, a file or null'),
    digest: checkString(field('digest'), data.digest, 'a model digest'),
    items: checkItems(data.items, field('items')),
  };
  if (kind === 'embed') {
    return {
      ...base, kind,
      split: checkChoice(field('split'), data.split, ['train', 'val'] as const),
      seed: checkInteger(field('seed'), data.seed, { min: 0 }),
      augment: checkChoice(field('augment'), data.augment, ['none', 'light', 'standard'] as const),
      views: checkInteger(field('views'), data.views, { min: 1 }),
    };
  }
  return { ...base, kind, topk: checkInteger(field('topk'), data.topk, { min: 1 }), batchSize: checkInteger(field('batchSize'), data.batchSize, { min: 1 }) };
}

function checkItems(items: unknown, name: string): ShardItem[] {
  if (!Array.isArray(items) || items.length === 0) throw invalidType(name, 'a non-empty array of {file, sha256}', items);
  return items.map((it, i) => {
    if (!isRecord(it)) throw invalidType(`${name}[${i}]`, 'an object {file, sha256}', it);
    const file = checkString(`${name}[${i}].file`, it.file, 'a file path');
    const sha256 = it.sha256 === null ? null : checkString(`${name}[${i}].sha256`, it.sha256, 'a SHA-256 in hex or null');
    return { file, sha256 };
  });
}
