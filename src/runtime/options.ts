import os from 'node:os';

export type ExecutionProvider = 'cpu' | 'webgpu' | 'cuda';

/**
 * Where ONNX Runtime's synchronous `run()` happens: 'inline' on the calling thread (the one-shot
 * CLI: nothing else needs the event loop), 'workers' in a pool of worker threads, so a server or
 * web app that trains keeps answering while graphs run (session-pool.ts).
 */
export type Executor = 'inline' | 'workers';

export interface RuntimeOptions {
  /**
   * Threads for one op (ONNX Runtime's intra-op pool); defaults to the number of cores. With the
   * 'workers' executor each worker's sessions get at most cores / workers of them (at least one),
   * so the pool never runs more threads than the machine has cores.
   */
  threads: number;
  /** On which threads sessions run; see Executor. Sessions compiled before a change keep theirs. */
  executor: Executor;
  /** Worker threads of the 'workers' executor; a change applies once the runtime is released. */
  workers: number;
  /**
   * Runs that may wait for a busy worker pool; one more is refused at once with a
   * RuntimeBusyError (a server answers 503) rather than queued without bound.
   */
  maxQueuedRuns: number;
  /** Where sessions run; 'cpu' unless the machine has something faster and you ask for it. */
  provider: ExecutionProvider;
  /** Compiled sessions kept; the least recently used beyond this are released. */
  maxSessions: number;
  /** ONNX Runtime's CPU arena: faster allocation, but freed blocks stay with the process. */
  memoryArena: boolean;
  /**
   * ONNX Runtime's memory pattern: plans one block for all intermediates of a run. Off by default:
   * for training graphs it nearly doubled peak memory and was no faster (MobileNetV2 and ResNet-50
   * full steps at batch 16).
   */
  memoryPattern: boolean;
  /**
   * Convolutions whose weights are fed (training graphs) in ONNX Runtime's blocked channel layout
   * (graph/ops/conv-blocked.ts), where the CPU has those kernels.
   */
  blockedLayout: boolean;
  /**
   * When set, each session compiled from then on records ONNX Runtime's per-node timings and
   * writes them (Chrome trace JSON) to a file starting with this prefix when it is released.
   * bench/profile-step.ts reads them.
   */
  profilePrefix: string | null;
}

const PROVIDERS: readonly ExecutionProvider[] = ['cpu', 'webgpu', 'cuda'];
const EXECUTORS: readonly Executor[] = ['inline', 'workers'];

/** The options a runtime starts with: every core, the CPU, and the environment's switches. */
export function defaultRuntimeOptions(): RuntimeOptions {
  return {
    threads: os.availableParallelism(),
    executor: process.env.GRAFT_EXECUTOR === 'workers' ? 'workers' : 'inline',
    // One worker takes every core for one graph at a time: a training job's runs come one after
    // another. Concurrent requests (a server) run side by side with more workers, fewer threads each.
    workers: 1,
    maxQueuedRuns: 64,
    provider: 'cpu',
    maxSessions: 8,
    memoryArena: process.env.GRAFT_ORT_ARENA !== '0',
    memoryPattern: process.env.GRAFT_ORT_MEMPATTERN === '1',
    blockedLayout: process.env.GRAFT_ORT_BLOCKED !== '0',
    profilePrefix: null,
  };
}

/** Checks an options update at the boundary; returns it unchanged. */
export function checkRuntimeOptions(update: Partial<RuntimeOptions>): Partial<RuntimeOptions> {
  if (update.threads !== undefined && !(Number.isInteger(update.threads) && update.threads >= 1 && update.threads <= 1024)) {
    throw new RangeError(`Expected integer between 1 and 1024 for threads but received ${update.threads}`);
  }
  if (update.provider !== undefined && !PROVIDERS.includes(update.provider)) {
    throw new RangeError(`Expected one of ${PROVIDERS.join(', ')} for provider but received ${String(update.provider)}`);
  }
  if (update.executor !== undefined && !EXECUTORS.includes(update.executor)) {
    throw new RangeError(`Expected one of ${EXECUTORS.join(', ')} for executor but received ${String(update.executor)}`);
  }
  if (update.workers !== undefined && !(Number.isInteger(update.workers) && update.workers >= 1 && update.workers <= 256)) {
    throw new RangeError(`Expected integer between 1 and 256 for workers but received ${update.workers}`);
  }
  if (update.maxQueuedRuns !== undefined && !(Number.isInteger(update.maxQueuedRuns) && update.maxQueuedRuns >= 0)) {
    throw new RangeError(`Expected integer >= 0 for maxQueuedRuns but received ${update.maxQueuedRuns}`);
  }
  if (update.maxSessions !== undefined && !(Number.isInteger(update.maxSessions) && update.maxSessions >= 1)) {
    throw new RangeError(`Expected integer >= 1 for maxSessions but received ${update.maxSessions}`);
  }
  return update;
}

/** Intra-op threads of a session in the worker pool: the cores shared out between the workers. */
export function workerThreads(options: Pick<RuntimeOptions, 'threads' | 'workers'>): number {
  return Math.min(options.threads, Math.max(1, Math.floor(os.availableParallelism() / options.workers)));
}
