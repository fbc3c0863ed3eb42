import { startWorker } from '../queue/worker.ts';
import type { Executor } from '../runtime/options.ts';

export interface WorkerFlags { queue: string; concurrency: number; lockMs: number; executor: Executor; model: string[]; weights?: string }

/** Takes shards until SIGTERM or SIGINT, then finishes the shard in hand and exits 0. */
export async function workerCommand(f: WorkerFlags): Promise<void> {
  const log = (line: string) => process.stderr.write(`graft worker ${process.pid}: ${line}\n`);
  const warm = f.model.map((model) => ({ model, weights: f.weights === 'none' ? null : f.weights }));
  const worker = await startWorker(f.queue, { concurrency: f.concurrency, lockMs: f.lockMs, executor: f.executor, warm, log });
  log(`waiting for shards on ${f.queue}`);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) process.exit(1);
    stopping = true;
    log(`${signal}: finishing the shard in hand`);
    worker.close().then(() => process.exit(0), (e: Error) => { log(e.message); process.exit(1); });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}
