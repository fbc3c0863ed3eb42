import { Worker } from 'bullmq';
import { checkChoice, checkInteger } from '../errors/index.ts';
import { Runtime } from '../runtime/runtime.ts';
import type { Executor } from '../runtime/options.ts';
import { runShard } from '../jobs/shards/run-shard.ts';
import { ShardModels } from '../jobs/shards/shard-models.ts';
import { checkShardTask } from '../jobs/shards/shard-task.ts';
import { warmUp } from '../jobs/shards/warm-up.ts';
import { QUEUE_NAME, redisConnection } from './connection.ts';
import { LoopStalls } from './loop-stalls.ts';

const EXECUTORS: readonly Executor[] = ['inline', 'workers'];

export interface WorkerOptions {
  /** Shards run at once (default 1: a shard already uses the cores). */
  concurrency?: number;
  /**
   * How long a shard stays this worker's without a sign of life (default 30 000 ms): a worker that
   * dies mid-shard loses the shard to another worker about this long after.
   */
  lockMs?: number;
  /**
   * Where ONNX Runtime runs: on a worker thread ('workers', the default), which keeps the event
   * loop free for BullMQ's lock renewal and stalled-job checks during a run, at the cost of a hop
   * per batch (the batch moves there without a copy: about 2% of a MobileNetV2 pass's CPU on two
   * cores, bench/NOTES.md); or
   * 'inline', on the loop's thread between its turns, as `graft embed` in one process, for batches
   * whose run stays far below `lockMs` (the worker logs a warning when a stall reaches a quarter of it).
   */
  executor?: Executor;
  /**
   * Models to get ready for before the first shard (`graft worker --model`): backbones for
   * feature shards, trained model folders for prediction shards (jobs/shards/warm-up.ts), loaded
   * and compiled while no job is held, so that the first shard costs what the others do.
   */
  warm?: readonly { model: string; weights?: string | null }[];
  log?: (line: string) => void;
}

export interface RunningWorker { close(): Promise<void> }

/**
 * A `graft worker`: takes shards from the queue at `url` until closed, loading each model once.
 * BullMQ renews the shard's lock on turns of the event loop (every quarter of `lockMs`), so no
 * stall of the loop may come near `lockMs`: with 'inline', the longest is one batch's run (a MobileNetV2
 * batch of 32 on two cores, well under a second), and the decoding threads give the loop a turn
 * between batches; test/queue-lock.test.ts holds one shard for several lock durations.
 */
export async function startWorker(url: string, opts: WorkerOptions = {}): Promise<RunningWorker> {
  const concurrency = checkInteger('concurrency', opts.concurrency ?? 1, { min: 1 });
  const lockMs = checkInteger('lockMs', opts.lockMs ?? 30_000, { min: 1000 });
  const executor = checkChoice('executor', opts.executor ?? 'workers', EXECUTORS);
  const log = opts.log ?? (() => {});
  const runtime = new Runtime({ executor, workers: concurrency });
  const stalls = new LoopStalls();
  const models = new ShardModels(runtime);
  try {
    for (const w of opts.warm ?? []) {
      const t0 = performance.now();
      await warmUp(models, w.model, w.weights);
      log(`ready for ${w.model} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    }
  } catch (e) {
    await models.close();
    await runtime.close();
    throw e;
  }
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
    const stall = stalls.takeLongestMs();
    if (stall > lockMs / 4) {
      log(`warning: the event loop stalled for ${Math.round(stall)} ms during shard ${task.shard}, a good part of the ${lockMs} ms lock; a longer stall hands a live worker's shard to another: raise --lock-ms or use --executor workers`);
    }
    return run;
  }, { connection: redisConnection(url), concurrency, lockDuration: lockMs, stalledInterval: Math.max(500, Math.floor(lockMs / 2)), maxStalledCount: 5 });
  worker.on('failed', (job, error) => log(`shard job ${job?.id ?? '?'} failed: ${error.message}`));
  worker.on('error', (error) => log(`queue error: ${error.message}`));
  await worker.waitUntilReady();
  return {
    async close() {
      await worker.close();
      stalls.stop();
      await models.close();
      await runtime.close();
    },
  };
}
