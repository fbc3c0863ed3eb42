import os from 'node:os';

export type ExecutionProvider = 'cpu' | 'webgpu' | 'cuda';

export interface RuntimeOptions {
  /** Threads for one op (ONNX Runtime's intra-op pool); defaults to the number of cores. */
  threads: number;
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

/** The options a runtime starts with: every core, the CPU, and the environment's switches. */
export function defaultRuntimeOptions(): RuntimeOptions {
  return {
    threads: os.availableParallelism(),
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
  if (update.maxSessions !== undefined && !(Number.isInteger(update.maxSessions) && update.maxSessions >= 1)) {
    throw new RangeError(`Expected integer >= 1 for maxSessions but received ${update.maxSessions}`);
  }
  return update;
}
