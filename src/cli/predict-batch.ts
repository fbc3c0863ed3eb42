import { predictBatch } from '../jobs/predict-batch.ts';
import { parseShardSelector } from '../jobs/shards/shard-plan.ts';
import { queueFor } from './embed.ts';
import { reportShards, shardProgress } from './shard-progress.ts';

export interface PredictBatchFlags {
  model: string; weights: string; topk: number; batchSize: number; batch: string; out?: string; shardSize: number; shard?: string;
  queue?: string; attempts: number; backoffMs: number; json?: boolean; quiet?: boolean;
}

export async function predictBatchCommand(f: PredictBatchFlags): Promise<void> {
  if (!f.out) throw new RangeError('predict --batch writes its results to a file: give --out results.jsonl or --out results.csv');
  const progress = shardProgress('predict', !f.quiet);
  const result = await predictBatch(f.batch, {
    out: f.out, model: f.model, weights: f.weights === 'none' ? null : f.weights, topk: f.topk, batchSize: f.batchSize,
    shardSize: f.shardSize, shard: f.shard ? parseShardSelector(f.shard) : null, queue: queueFor(f), onEvent: progress.onEvent,
  }).finally(() => progress.stop());
  if (f.json) process.stdout.write(`${JSON.stringify(result)}\n`);
  reportShards(result, `results (${result.images} images, ${result.failedImages} unreadable)`, result.out);
}
