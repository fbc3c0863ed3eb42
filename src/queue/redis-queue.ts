import { Job, Queue, QueueEvents } from 'bullmq';
import type { ShardOutcome, ShardProgress, ShardQueue } from '../jobs/shards/shard-queue.ts';
import type { ShardTask } from '../jobs/shards/shard-task.ts';
import { sha256 } from '../train/feature-cache.ts';
import { QUEUE_NAME, redisConnection } from './connection.ts';

export interface RedisQueueOptions {
  /** Attempts per shard before it counts as failed (default 3). */
  attempts?: number;
  /** The first retry's delay; each next one doubles it (default 1000 ms). */
  backoffMs?: number;
}

/**
 * A job's id: the shard's name (a hash of the model digest and the shard's contents) and where
 * its output goes, so a shard enqueued twice for the same folder runs once.
 */
export const jobId = (t: ShardTask) => sha256(`${t.shard}|${t.out}`).slice(0, 32);

/**
 * Shards as BullMQ jobs on the Redis server at `url`, run by `graft worker` processes anywhere.
 * Resolves once every job has completed or failed its last attempt. A job left from an earlier
 * submission is reused: a completed one whose output is gone is run again, a failed one retried.
 */
export function redisQueue(url: string, opts: RedisQueueOptions = {}): ShardQueue {
  const connection = redisConnection(url);
  return {
    async run(tasks, onProgress, signal) {
      const queue = new Queue(QUEUE_NAME, { connection });
      const events = new QueueEvents(QUEUE_NAME, { connection });
      const byId = new Map(tasks.map((t) => [jobId(t), t]));
      const outcomes = new Map<string, ShardOutcome>();
      let wake = () => {};
      const settle = (id: string, outcome: (shard: string) => ShardOutcome) => {
        const task = byId.get(id);
        if (!task || outcomes.has(id)) return;
        outcomes.set(id, outcome(task.shard));
        wake();
      };
      try {
        await events.waitUntilReady();
        events.on('progress', ({ jobId: id, data }) => {
          const task = byId.get(id);
          const p = data as { done?: unknown; total?: unknown };
          if (task && typeof p?.done === 'number' && typeof p.total === 'number') onProgress({ shard: task.shard, done: p.done, total: p.total } satisfies ShardProgress);
        });
        events.on('completed', ({ jobId: id }) => settle(id, (shard) => ({ shard, ok: true })));
        events.on('failed', ({ jobId: id }) => { void finalState(queue, id).then((s) => { if (s.final) settle(id, s.outcome); }); });
        const jobOpts = { attempts: opts.attempts ?? 3, backoff: { type: 'exponential', delay: opts.backoffMs ?? 1000 }, removeOnComplete: { age: 7 * 86400 }, removeOnFail: { age: 7 * 86400 } };
        // Jobs of an earlier submission with the same ids: BullMQ keeps them rather than adding new ones.
        for (const [id] of byId) {
          const old = await Job.fromId(queue, id);
          const state = old ? await old.getState() : null;
          if (state === 'completed') await old!.remove();
          else if (state === 'failed') await old!.retry('failed');
        }
        await queue.addBulk([...byId].map(([id, t]) => ({ name: t.kind, data: t, opts: { ...jobOpts, jobId: id } })));
        // Events can be missed (a reconnect); the states are asked for now and then as well.
        while (outcomes.size < byId.size) {
          signal?.throwIfAborted();
          await new Promise<void>((r) => { wake = r; setTimeout(r, 2000).unref(); });
          for (const id of byId.keys()) {
            if (outcomes.has(id)) continue;
            const s = await finalState(queue, id);
            if (s.final) settle(id, s.outcome);
          }
        }
      } finally {
        await events.close();
        await queue.close();
      }
      return tasks.map((t) => outcomes.get(jobId(t))!);
    },
  };
}

async function finalState(queue: Queue, id: string): Promise<{ final: false } | { final: true; outcome: (shard: string) => ShardOutcome }> {
  const job = await Job.fromId(queue, id);
  if (!job) return { final: true, outcome: (shard) => ({ shard, ok: false, error: 'the job was removed from the queue before it finished' }) };
  const state = await job.getState();
  if (state === 'completed') return { final: true, outcome: (shard) => ({ shard, ok: true }) };
  if (state === 'failed') return { final: true, outcome: (shard) => ({ shard, ok: false, error: `${job.failedReason} (after ${job.attemptsMade} attempts)` }) };
  return { final: false };
}
