import { mkdir, readFile, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { writeFileAtomic } from '../../formats/atomic-write.ts';
import { embed } from '../../train/embeddings.ts';
import { predict } from '../predict.ts';
import { checkUnchanged } from './shard-plan.ts';
import { decodeFeatureShard, encodeFeatureShard, featureShardPath } from './feature-shard.ts';
import { decodePart, encodePart, partPath } from './predict-part.ts';
import type { ShardModels } from './shard-models.ts';
import type { EmbedTask, PredictTask, ShardTask } from './shard-task.ts';

/** Images a backbone run takes at once: a shard's last batch is padded to it, so every run shares one compiled session. */
export const EMBED_BATCH_SIZE = 32;

/** Images (times views) of a shard done so far. */
export type ShardProgressCallback = (done: number, total: number) => void;

/** Whether a shard ran now or was found done (a rerun, or another worker got there first). */
export interface ShardRun { shard: string; ran: boolean }

/** Where a task's output goes. */
export const outputPath = (t: ShardTask) => (t.kind === 'embed' ? featureShardPath(t.out, t.shard) : partPath(t.out, t.shard));

/**
 * Whether a task's output is there and is what it should be; a damaged or foreign one is removed
 * so that the task runs again.
 */
export async function outputDone(t: ShardTask): Promise<boolean> {
  const path = outputPath(t);
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch {
    return false;
  }
  try {
    if (t.kind === 'embed') decodeFeatureShard(bytes, path, { name: t.shard, digests: t.items.map((i) => i.sha256), views: t.views });
    else decodePart(bytes.toString('utf8'), path, t.items.map((i) => i.file));
    return true;
  } catch {
    await rm(path, { force: true });
    return false;
  }
}

/**
 * Runs one shard and writes its output by atomic rename to its deterministic name: a worker
 * killed mid-shard leaves at most a temporary file, and the shard runs again elsewhere. A shard
 * whose output is already there is not run again.
 */
export async function runShard(task: ShardTask, models: ShardModels, onProgress: ShardProgressCallback = () => {}): Promise<ShardRun> {
  if (await outputDone(task)) return { shard: task.shard, ran: false };
  await checkUnchanged(task.items);
  const bytes = task.kind === 'embed' ? await embedShard(task, models, onProgress) : await predictShard(task, models, onProgress);
  const path = outputPath(task);
  await mkdir(dirname(path), { recursive: true });
  await writeFileAtomic(path, bytes);
  return { shard: task.shard, ran: true };
}

function refuseOtherModel(task: ShardTask, digest: string): void {
  if (digest !== task.digest) {
    throw new Error(`${task.model} here has weights with digest ${digest.slice(0, 12)}, but shard ${task.shard} was planned with ${task.digest.slice(0, 12)}: workers and the submitting command must see the same model`);
  }
}

async function embedShard(task: EmbedTask, models: ShardModels, onProgress: ShardProgressCallback): Promise<Uint8Array[]> {
  const backbone = await models.backbone(task.model, task.weights, task.seed, task.augment);
  refuseOtherModel(task, backbone.digest);
  const views = task.views;
  const samples = task.items.map((i) => ({ path: i.file, target: 0 }));
  const transform = task.split === 'train' ? backbone.train : backbone.val;
  const emb = await models.runtime.run(() => embed(backbone.forward, samples, {
    transform, views, seed: task.seed, cache: null, batchSize: EMBED_BATCH_SIZE, onProgress, pool: models.decoders(transform), dim: models.featureWidths.get(backbone.digest),
  }));
  if (emb.dim) models.featureWidths.set(backbone.digest, emb.dim);
  return encodeFeatureShard(task.shard, task.items.map((i) => i.sha256), emb, views);
}

async function predictShard(task: PredictTask, models: ShardModels, onProgress: ShardProgressCallback): Promise<Uint8Array[]> {
  const classifier = await models.classifier(task.model, task.weights);
  refuseOtherModel(task, classifier.digest);
  const files = task.items.map((i) => i.file);
  const predictions = await predict(classifier.loaded, files, {
    topk: task.topk, batchSize: task.batchSize, runtime: models.runtime, onEvent: (e) => onProgress(e.done, e.total),
  });
  return [Buffer.from(encodePart(predictions))];
}
