import type { ShardModels } from './shard-models.ts';
import { runShard } from './run-shard.ts';
import type { ShardTask } from './shard-task.ts';

/** Work done on one shard so far, as a worker reports it. */
export interface ShardProgress { shard: string; done: number; total: number }

/** How a shard ended: done (now or before), or failed with the error of its last attempt. */
export type ShardOutcome = { shard: string; ok: true } | { shard: string; ok: false; error: string };

/**
 * Where shards run: in this process, or on a job queue's workers (graft/queue). A queue runs each
 * task to completion or to failure and resolves once every task has ended; what a task writes
 * is its output file, so a queue only reports.
 */
export interface ShardQueue {
  run(tasks: readonly ShardTask[], onProgress: (p: ShardProgress) => void, signal?: AbortSignal): Promise<ShardOutcome[]>;
}

/**
 * The single-machine queue: shards one after another in this process, with the models loaded
 * once. It is the same code a worker runs for each job.
 */
export function inProcessQueue(models: ShardModels): ShardQueue {
  return {
    async run(tasks, onProgress, signal) {
      const outcomes: ShardOutcome[] = [];
      for (const task of tasks) {
        signal?.throwIfAborted();
        try {
          await runShard(task, models, (done, total) => onProgress({ shard: task.shard, done, total }));
          outcomes.push({ shard: task.shard, ok: true });
        } catch (e) {
          if ((e as Error).name === 'AbortError') throw e;
          outcomes.push({ shard: task.shard, ok: false, error: (e as Error).message });
        }
      }
      return outcomes;
    },
  };
}
