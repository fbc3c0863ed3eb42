import { inSlice, type ShardSelector } from './shard-plan.ts';
import { outputDone } from './run-shard.ts';
import type { ShardQueue } from './shard-queue.ts';
import type { ShardTask } from './shard-task.ts';

/** What a sharded job reports while it runs; `done` and `total` count images (times views). */
export type ShardEvent =
  | { type: 'plan'; shards: number; selected: number; alreadyDone: number; toRun: number; images: number }
  | { type: 'progress'; done: number; total: number }
  | { type: 'shard'; shard: string; ok: boolean; error?: string };

export interface ShardJobSummary {
  /** Shards in the whole plan. */
  shards: number;
  /** Shards this command was given (all of them without a selector). */
  selected: number;
  /** Selected shards whose output was there already. */
  alreadyDone: number;
  /** Shards that ran now. */
  ran: number;
  /** Shards that failed (after their retries, on a queue), each with its error. */
  failed: { shard: string; error: string }[];
  /** Every shard of the plan has its output: the job's result can be assembled. */
  complete: boolean;
}

const work = (t: ShardTask) => t.items.length * (t.kind === 'embed' ? t.views : 1);

/**
 * Runs the shards of a plan that `selector` selects and are not done yet on `queue`, with one
 * progress count over all of them, then says whether the whole plan is done (other slices may
 * have been run by other machines).
 */
export async function runShards(tasks: readonly ShardTask[], o: { queue: ShardQueue; selector: ShardSelector | null; onEvent?: (e: ShardEvent) => void; signal?: AbortSignal }): Promise<ShardJobSummary> {
  const emit = o.onEvent ?? (() => {});
  const done = await Promise.all(tasks.map(outputDone));
  const selected = tasks.filter((t) => inSlice(t.shard, o.selector));
  const doneNames = new Set(tasks.filter((_, i) => done[i]).map((t) => t.shard));
  const toRun = selected.filter((t) => !doneNames.has(t.shard));
  const byName = new Map(toRun.map((t) => [t.shard, t]));
  const total = toRun.reduce((s, t) => s + work(t), 0);
  emit({ type: 'plan', shards: tasks.length, selected: selected.length, alreadyDone: selected.length - toRun.length, toRun: toRun.length, images: total });
  const progress = new Map<string, number>();
  let sum = 0;
  emit({ type: 'progress', done: 0, total });
  const outcomes = toRun.length === 0 ? [] : await o.queue.run(toRun, (p) => {
    const task = byName.get(p.shard);
    if (!task) return;
    // Reported as a share of the shard's work: a worker may count views or images.
    const now = Math.min(work(task), Math.round((p.done / Math.max(1, p.total)) * work(task)));
    sum += now - (progress.get(p.shard) ?? 0);
    progress.set(p.shard, now);
    emit({ type: 'progress', done: sum, total });
  }, o.signal);
  for (const out of outcomes) {
    if (out.ok) {
      const task = byName.get(out.shard)!;
      sum += work(task) - (progress.get(out.shard) ?? 0);
      progress.set(out.shard, work(task));
    }
    emit({ type: 'shard', shard: out.shard, ok: out.ok, ...(out.ok ? {} : { error: out.error }) });
  }
  emit({ type: 'progress', done: sum, total });
  const failed = outcomes.flatMap((x) => (x.ok ? [] : [{ shard: x.shard, error: x.error }]));
  const complete = (await Promise.all(tasks.map(outputDone))).every(Boolean);
  return { shards: tasks.length, selected: selected.length, alreadyDone: selected.length - toRun.length, ran: outcomes.length - failed.length, failed, complete };
}
