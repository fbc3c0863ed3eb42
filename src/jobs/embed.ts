import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { checkInteger, invalidType } from '../errors/index.ts';
import { loadImageFolders } from '../data/datasets/folders.ts';
import { PIXEL_PIPELINE_VERSION } from '../data/sample.ts';
import { currentRuntime, type Runtime } from '../runtime/runtime.ts';
import { resolveConfig, type TrainConfig } from '../train/config.ts';
import { digestFiles, planShards, type ShardSelector } from './shards/shard-plan.ts';
import { ShardModels } from './shards/shard-models.ts';
import { inProcessQueue, type ShardQueue } from './shards/shard-queue.ts';
import { runShards, type ShardEvent, type ShardJobSummary } from './shards/run-shards.ts';
import { relativeFile, writeFeaturesManifest, type ManifestFile } from './shards/features-manifest.ts';
import type { EmbedTask } from './shards/shard-task.ts';

export interface EmbedJobOptions extends Partial<Pick<TrainConfig, 'model' | 'weights' | 'seed' | 'augment' | 'views' | 'valSplit'>> {
  /** The features folder: shards/ and, once every shard is there, manifest.json. */
  out: string;
  /** Images per shard (default 256). */
  shardSize?: number;
  /** Run only this slice of the shards (an array job's index); the others are left to other machines. */
  shard?: ShardSelector | null;
  /** Where shards run: in this process by default, or a job queue's workers. */
  queue?: ShardQueue;
  runtime?: Runtime;
  onEvent?: (e: ShardEvent) => void;
  signal?: AbortSignal;
}

export interface EmbedJobResult extends ShardJobSummary { out: string; manifest: string | null }

/**
 * Backbone features of every image of a dataset, as `graft train` computes them for a frozen
 * backbone (training images through `views` augmented views, validation images through the eval
 * transform), written as safetensors shards with a manifest that `graft train --features` reads.
 * The splits are made as `graft train` makes them from the same seed and valSplit.
 */
export async function embedFeatures(data: string, opts: EmbedJobOptions): Promise<EmbedJobResult> {
  if (typeof data !== 'string' || data === '') throw invalidType('data', 'an image folder', data);
  if (typeof opts?.out !== 'string' || opts.out === '') throw invalidType('out', 'the features folder to write', opts?.out);
  const cfg = resolveConfig({ model: opts.model, weights: opts.weights, seed: opts.seed, augment: opts.augment, views: opts.views, valSplit: opts.valSplit });
  const shardSize = checkInteger('shardSize', opts.shardSize ?? 256, { min: 1 });
  const out = resolve(opts.out);
  const root = resolve(data);
  const splits = loadImageFolders(root, { valFraction: cfg.valSplit, seed: cfg.seed });
  const models = new ShardModels(opts.runtime ?? currentRuntime());
  const backbone = await models.backbone(cfg.model, cfg.weights, cfg.seed, cfg.augment);
  const views = cfg.augment === 'none' ? 1 : cfg.views;
  const transforms = { train: JSON.stringify(backbone.train.spec()), val: JSON.stringify(backbone.val.spec()) };
  await mkdir(out, { recursive: true });

  const tasks: EmbedTask[] = [];
  const planned = {} as Record<'train' | 'val', { files: ManifestFile[]; shards: { name: string; start: number; count: number }[] }>;
  for (const split of ['train', 'val'] as const) {
    const samples = splits[split].samples;
    const files = samples.map((s) => resolve(s.path));
    const digests = await digestFiles(files);
    const splitViews = split === 'train' ? views : 1;
    const identity = { kind: 'embed', digest: backbone.digest, transform: transforms[split], views: splitViews, seed: cfg.seed, pixels: PIXEL_PIPELINE_VERSION };
    const shards = planShards(files.map((file, i) => ({ file, sha256: digests[i] })), shardSize, identity);
    planned[split] = {
      files: samples.map((s, i) => ({ file: relativeFile(root, files[i]), label: s.target as number, sha256: digests[i] })),
      shards: shards.map((s) => ({ name: s.shard, start: s.start, count: s.items.length })),
    };
    for (const s of shards) {
      tasks.push({ kind: 'embed', shard: s.shard, out, model: cfg.model, weights: cfg.weights, digest: backbone.digest, items: s.items, split, seed: cfg.seed, augment: cfg.augment, views: splitViews });
    }
  }
  const summary = await runShards(tasks, { queue: opts.queue ?? inProcessQueue(models), selector: opts.shard ?? null, onEvent: opts.onEvent, signal: opts.signal })
    .finally(() => models.close());
  const manifest = summary.complete
    ? await writeFeaturesManifest(out, {
      model: cfg.model, weights: cfg.weights, model_digest: backbone.digest, seed: cfg.seed, augment: cfg.augment, views, pixels: PIXEL_PIPELINE_VERSION,
      preprocessing: backbone.preprocessing, transforms, classes: [...splits.classes], root, source: splits.source,
    }, planned)
    : null;
  return { ...summary, out, manifest };
}
