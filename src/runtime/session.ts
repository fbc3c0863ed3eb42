import * as ort from 'onnxruntime-node';
import { runtimeOptions } from './options.ts';

/**
 * The narrow seam in front of ONNX Runtime: create a session from ONNX bytes, run it, release it.
 * Everything above this file speaks in graft tensors and never touches the executor directly.
 */
export interface Executable {
  run(feeds: Record<string, ort.Tensor>): Promise<Record<string, ort.Tensor>>;
  release(): Promise<void>;
}

export async function createSession(model: Uint8Array): Promise<Executable> {
  const opts = runtimeOptions();
  const profilePrefix = opts.profilePrefix;
  const session = await ort.InferenceSession.create(model, {
    intraOpNumThreads: opts.threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    executionProviders: [opts.provider],
    enableCpuMemArena: opts.memoryArena,
    enableMemPattern: opts.memoryPattern,
    ...(profilePrefix ? { enableProfiling: true, profileFilePrefix: profilePrefix } : {}),
  });
  return {
    run: (feeds) => session.run(feeds) as Promise<Record<string, ort.Tensor>>,
    release: async () => {
      if (profilePrefix) session.endProfiling();
      await session.release();
    },
  };
}

/** Sessions by graph signature, least recently used first. */
const cache = new Map<string, Promise<Executable>>();
/** Signatures compiled inside the innermost `withTransientSessions`, released when it ends. */
let transient: Set<string> | null = null;

export async function sessionFor(signature: string, build: () => Uint8Array): Promise<Executable> {
  let s = cache.get(signature);
  if (s) {
    cache.delete(signature);
    cache.set(signature, s);
    return s;
  }
  s = createSession(build());
  cache.set(signature, s);
  transient?.add(signature);
  s.catch(() => cache.delete(signature));
  while (cache.size > runtimeOptions().maxSessions) {
    const [oldest, victim] = cache.entries().next().value!;
    cache.delete(oldest);
    victim.then((e) => e.release()).catch(() => {});
  }
  return s;
}

/**
 * Runs `fn` and then releases the sessions it compiled: for graphs that bake values used once
 * (validation with the weights of one epoch), which would otherwise stay cached until evicted.
 */
export async function withTransientSessions<T>(fn: () => Promise<T>): Promise<T> {
  const outer = transient;
  const mine = new Set<string>();
  transient = mine;
  try {
    return await fn();
  } finally {
    transient = outer;
    for (const signature of mine) {
      const s = cache.get(signature);
      cache.delete(signature);
      s?.then((e) => e.release()).catch(() => {});
    }
  }
}

/** Releases every cached session (e.g. before measuring memory, or at the end of a run). */
export async function releaseSessions(): Promise<void> {
  const all = [...cache.values()];
  cache.clear();
  await Promise.all(all.map((s) => s.then((e) => e.release()).catch(() => {})));
}

export function cachedSessionCount(): number {
  return cache.size;
}
