import { readFileSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, extname, resolve } from 'node:path';
import { checkInteger, invalidType } from '../errors/index.ts';
import { IMG_EXTENSIONS, listImages } from '../data/datasets/image-folder.ts';
import { currentRuntime, type Runtime } from '../runtime/runtime.ts';
import { writeFileAtomic } from '../formats/atomic-write.ts';
import { digestFiles, planShards, type ShardSelector } from './shards/shard-plan.ts';
import { ShardModels } from './shards/shard-models.ts';
import { inProcessQueue, type ShardQueue } from './shards/shard-queue.ts';
import { runShards, type ShardEvent, type ShardJobSummary } from './shards/run-shards.ts';
import { decodePart, partPath, type PredictionLine } from './shards/predict-part.ts';
import { PREDICT_BATCH_SIZE } from './predict.ts';
import type { PredictTask } from './shards/shard-task.ts';

export interface PredictBatchOptions {
  /** results.jsonl (one JSON line per image) or results.csv (one row per image and rank). */
  out: string;
  model: string;
  weights?: string | null;
  topk?: number;
  batchSize?: number;
  /** Images per shard (default 256). */
  shardSize?: number;
  shard?: ShardSelector | null;
  queue?: ShardQueue;
  runtime?: Runtime;
  onEvent?: (e: ShardEvent) => void;
  signal?: AbortSignal;
}

export interface PredictBatchResult extends ShardJobSummary {
  /** The results file, written once every shard is done; null before. */
  out: string | null;
  images: number;
  /** Images that could not be classified (each has an error in the results). */
  failedImages: number;
}

/** The images of a folder (recursively, sorted) or of a list file (one path a line, relative to the list; # comments). */
export function batchInputs(input: string): string[] {
  const path = resolve(input);
  if (statSync(path, { throwIfNoEntry: false })?.isDirectory()) return listImages(path, IMG_EXTENSIONS, []);
  const text = readFileSync(path, 'utf8');
  return text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#')).map((l) => resolve(dirname(path), l));
}

/**
 * Predictions for any number of images, in shards whose results are kept beside the output
 * (`<out>.parts/`) as they finish: a run stopped or killed part-way resumes where it was, and a
 * queue's workers share the shards. The results file is written once every shard is done.
 */
export async function predictBatch(input: string, opts: PredictBatchOptions): Promise<PredictBatchResult> {
  if (typeof input !== 'string' || input === '') throw invalidType('input', 'an image folder or a list file', input);
  if (typeof opts?.out !== 'string' || !['.jsonl', '.csv'].includes(extname(opts.out).toLowerCase())) {
    throw invalidType('out', 'a results file ending in .jsonl or .csv', opts?.out);
  }
  const topk = checkInteger('topk', opts.topk ?? 5, { min: 1 });
  const batchSize = checkInteger('batchSize', opts.batchSize ?? PREDICT_BATCH_SIZE, { min: 1 });
  const shardSize = checkInteger('shardSize', opts.shardSize ?? 256, { min: 1 });
  const out = resolve(opts.out);
  const files = batchInputs(input);
  const models = new ShardModels(opts.runtime ?? currentRuntime());
  const weights = opts.weights === undefined ? 'DEFAULT' : opts.weights;
  const classifier = await models.classifier(opts.model, weights);
  const digests = await digestFiles(files);
  const shards = planShards(files.map((file, i) => ({ file, sha256: digests[i] })), shardSize, { kind: 'predict', digest: classifier.digest, topk, batchSize });
  const tasks: PredictTask[] = shards.map((s) => ({ kind: 'predict', shard: s.shard, out, model: opts.model, weights, digest: classifier.digest, items: s.items, topk, batchSize }));
  const summary = await runShards(tasks, { queue: opts.queue ?? inProcessQueue(models), selector: opts.shard ?? null, onEvent: opts.onEvent, signal: opts.signal })
    .finally(() => models.close());
  if (!summary.complete) return { ...summary, out: null, images: files.length, failedImages: 0 };
  const lines: PredictionLine[] = [];
  const texts: string[] = [];
  for (const t of tasks) {
    const path = partPath(out, t.shard);
    const text = await readFile(path, 'utf8');
    lines.push(...decodePart(text, path, t.items.map((i) => i.file)));
    texts.push(text);
  }
  const csv = extname(out).toLowerCase() === '.csv';
  await writeFileAtomic(out, [Buffer.from(csv ? toCsv(lines) : texts.join(''))]);
  return { ...summary, out, images: files.length, failedImages: lines.filter((l) => l.error).length };
}

const csvField = (v: string | number) => (typeof v === 'number' || !/[",\n\r]/.test(v) ? String(v) : `"${v.replace(/"/g, '""')}"`);

/** One row per image and rank; an image that failed has one row with its error. */
function toCsv(lines: readonly PredictionLine[]): string {
  const rows = ['file,rank,index,label,prob,error'];
  for (const l of lines) {
    if (l.error) rows.push([l.file, '', '', '', '', l.error].map(csvField).join(','));
    l.top.forEach((t, r) => rows.push([l.file, r + 1, t.index, t.label, t.prob, ''].map(csvField).join(',')));
  }
  return `${rows.join('\n')}\n`;
}
