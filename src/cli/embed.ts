import { embedFeatures } from '../jobs/embed.ts';
import { parseShardSelector } from '../jobs/shards/shard-plan.ts';
import type { ShardQueue } from '../jobs/shards/shard-queue.ts';
import { redisConnection } from '../queue/connection.ts';
import type { TrainConfig } from '../train/config.ts';
import { reportShards, shardProgress } from './shard-progress.ts';

export interface EmbedFlags {
  model?: string; weights?: string; views?: number; augment?: TrainConfig['augment']; seed?: number; valSplit?: number;
  out: string; shardSize: number; shard?: string; queue?: string; attempts: number; backoffMs: number; json?: boolean; quiet?: boolean;
}

/**
 * A queue of workers for --queue. The Redis client is loaded only then, not as every command's
 * cost, and while the command loads the model and plans its shards rather than before: the
 * import is on the path to the first shard (about 0.14 s on two cores, bench/NOTES.md).
 */
export function queueFor(flags: { queue?: string; attempts: number; backoffMs: number }): ShardQueue | undefined {
  const url = flags.queue;
  if (!url) return undefined;
  redisConnection(url); // a malformed URL is refused now, not after the model has loaded
  const loading = import('../queue/redis-queue.ts').then(({ redisQueue }) => redisQueue(url, { attempts: flags.attempts, backoffMs: flags.backoffMs }));
  // Awaited by run(); a plan that finds every shard done never calls it.
  loading.catch(() => {});
  return { run: async (...args) => (await loading).run(...args) };
}

export async function embedCommand(data: string, f: EmbedFlags): Promise<void> {
  const progress = shardProgress('features', !f.quiet);
  const result = await embedFeatures(data, {
    out: f.out, model: f.model, weights: f.weights === 'none' ? null : f.weights, views: f.views, augment: f.augment, seed: f.seed, valSplit: f.valSplit,
    shardSize: f.shardSize, shard: f.shard ? parseShardSelector(f.shard) : null, queue: queueFor(f), onEvent: progress.onEvent,
  }).finally(() => progress.stop());
  if (f.json) process.stdout.write(`${JSON.stringify(result)}\n`);
  reportShards(result, 'manifest', result.manifest);
}
