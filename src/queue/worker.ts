import { Worker } from 'bullmq';
import { checkInteger } from '../errors/index.ts';
import { Runtime } from '../runtime/runtime.ts';
import { runShard } from '../jobs/shards/run-shard.ts';
import { ShardModels } from '../jobs/shards/shard-models.ts';
import { checkShardTask } from '../jobs/shards/shard-task.ts';
import { QUEUE_NAME, redisConnection } from './connection.ts';

export interface WorkerOptions {
  /** Shards run at once (default 1: a shard already uses the cores). */
  concurrency?: number;
  /**
   * How long a shard stays this worker's without a sign of life (default 30 000 ms): a worker that
   * dies mid-shard loses the shard to another worker about this long after.
   */
  lockMs?: number;
  log?: (line: string) => void;
}

export interface RunningWorker { close(): Promise<void> }

/**
 * A `graft worker`: takes shards from the queue at `url` until closed, loading each model once.
 * ONNX Runtime runs on worker threads, so the event loop keeps renewing the shard's lock while
 * graphs run and the queue never takes a live worker for a dead one.
 */
export async function startWorker(url: string, opts: WorkerOptions = {}): Promise<RunningWorker> {
  const concurrency = checkInteger('concurrency', opts.concurrency ?? 1, { min: 1 });
  const lockMs = checkInteger('lockMs', opts.lockMs ?? 30_000, { min: 1000 });
  const log = opts.log ?? (() => {});
  const runtime = new Runtime({ executor: 'workers', workers: concurrency });
  const models = new ShardModels(runtime);
  const worker = new Worker(QUEUE_NAME, async (job) => {
    const task = checkShardTask(job.data, `job ${job.id}`);
    log(`shard ${task.shard} started (${task.kind}, ${task.items.length} images, attempt ${job.attemptsMade + 1})`);
    const t0 = performance.now();
    let last = 0;
    const run = await runShard(task, models, (done, total) => {
      // Reported at most every 200 ms: progress is for people, and every report is a Redis call.
      if (done < total && performance.now() - last < 200) return;
      last = performance.now();
      void job.updateProgress({ done, total });
    });
    log(`shard ${task.shard} ${run.ran ? 'done' : 'was already done'} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    return run;
  }, { connection: redisConnection(url), concurrency, lockDuration: lockMs, stalledInterval: Math.max(500, Math.floor(lockMs / 2)), maxStalledCount: 5 });
  worker.on('failed', (job, error) => log(`shard job ${job?.id ?? '?'} failed: ${error.message}`));
  worker.on('error', (error) => log(`queue error: ${error.message}`));
  await worker.waitUntilReady();
  return {
    async close() {
      await worker.close();
      await models.close();
      await runtime.close();
    },
  };
}
