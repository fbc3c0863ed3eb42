import os from 'node:os';
import { checkBoolean, checkChoice, checkInteger, checkString } from '../errors/index.ts';

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
   * writes them (Chrome trace JSON) to a file starting with this prefix when it is released, and
   * the graph ONNX Runtime optimized to a file of the same name ending in `.onnx`.
   * bench/profile-step.ts and bench/memory-step.ts read them.
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
  if (update.threads !== undefined) checkInteger('threads', update.threads, { min: 1, max: 1024 });
  if (update.provider !== undefined) checkChoice('provider', update.provider, PROVIDERS);
  if (update.executor !== undefined) checkChoice('executor', update.executor, EXECUTORS);
  if (update.workers !== undefined) checkInteger('workers', update.workers, { min: 1, max: 256 });
  if (update.maxQueuedRuns !== undefined) checkInteger('maxQueuedRuns', update.maxQueuedRuns, { min: 0 });
  if (update.maxSessions !== undefined) checkInteger('maxSessions', update.maxSessions, { min: 1 });
  if (update.memoryArena !== undefined) checkBoolean('memoryArena', update.memoryArena);
  if (update.memoryPattern !== undefined) checkBoolean('memoryPattern', update.memoryPattern);
  if (update.blockedLayout !== undefined) checkBoolean('blockedLayout', update.blockedLayout);
  if (update.profilePrefix !== undefined && update.profilePrefix !== null) checkString('profilePrefix', update.profilePrefix, 'a file prefix or null');
  return update;
}

/** Intra-op threads of a session in the worker pool: the cores shared out between the workers. */
export function workerThreads(options: Pick<RuntimeOptions, 'threads' | 'workers'>): number {
  return Math.min(options.threads, Math.max(1, Math.floor(os.availableParallelism() / options.workers)));
}
