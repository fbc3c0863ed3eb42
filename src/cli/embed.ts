import { embedFeatures } from '../jobs/embed.ts';
import { parseShardSelector } from '../jobs/shards/shard-plan.ts';
import type { ShardQueue } from '../jobs/shards/shard-queue.ts';
import type { TrainConfig } from '../train/config.ts';
import { reportShards, shardProgress } from './shard-progress.ts';

export interface EmbedFlags {
  model?: string; weights?: string; views?: number; augment?: TrainConfig['augment']; seed?: number; valSplit?: number;
  out: string; shardSize: number; shard?: string; queue?: string; attempts: number; backoffMs: number; json?: boolean; quiet?: boolean;
}

/** A queue of workers for --queue, loaded only then: the Redis client is not every command's cost. */
export async function queueFor(flags: { queue?: string; attempts: number; backoffMs: number }): Promise<ShardQueue | undefined> {
  if (!flags.queue) return undefined;
  const { redisQueue } = await import('../queue/redis-queue.ts');
  return redisQueue(flags.queue, { attempts: flags.attempts, backoffMs: flags.backoffMs });
}

export async function embedCommand(data: string, f: EmbedFlags): Promise<void> {
  const progress = shardProgress('features', !f.quiet);
  const result = await embedFeatures(data, {
    out: f.out, model: f.model, weights: f.weights === 'none' ? null : f.weights, views: f.views, augment: f.augment, seed: f.seed, valSplit: f.valSplit,
    shardSize: f.shardSize, shard: f.shard ? parseShardSelector(f.shard) : null, queue: await queueFor(f), onEvent: progress.onEvent,
  }).finally(() => progress.stop());
  if (f.json) process.stdout.write(`${JSON.stringify(result)}\n`);
  reportShards(result, 'manifest', result.manifest);
}
