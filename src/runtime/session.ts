import { randomUUID } from 'node:crypto';
import * as ort from 'onnxruntime-node';
import type { RuntimeOptions } from './options.ts';
import type { FeedLease } from './feed-buffers.ts';

/**
 * The narrow seam in front of ONNX Runtime: create a session from ONNX bytes, run it, release it.
 * Everything above this file speaks in graft tensors and never touches the executor directly.
 */
export interface Executable {
  /**
   * `lent`: the buffers of feeds the caller hands over for this run (feed-buffers.ts), which the
   * executor may move rather than copy; every one is settled before the run settles, whatever
   * its outcome.
   */
  run(feeds: Record<string, ort.Tensor>, lent?: readonly FeedLease[]): Promise<Record<string, ort.Tensor>>;
  release(): Promise<void>;
}

export type SessionOptions = Pick<RuntimeOptions, 'threads' | 'provider' | 'memoryArena' | 'memoryPattern' | 'profilePrefix'>;

/**
 * onnxruntime-node rejects views of a SharedArrayBuffer ("Invalid argument"); the loader's worker
 * threads write batches into one, so those are copied. (The worker pool copies every feed into a
 * buffer of its own anyway, and sends none of these.)
 */
function unshared(feeds: Record<string, ort.Tensor>): Record<string, ort.Tensor> {
  const out: Record<string, ort.Tensor> = {};
  for (const [name, t] of Object.entries(feeds)) {
    const data = t.data as Float32Array;
    out[name] = ArrayBuffer.isView(data) && data.buffer instanceof SharedArrayBuffer ? new ort.Tensor(t.type, data.slice(), t.dims) : t;
  }
  return out;
}

export async function createSession(model: Uint8Array, opts: SessionOptions): Promise<Executable> {
  // A profiled session also writes the graph ONNX Runtime optimized, under the same name as its
  // timings, so that a reader can pair each timed node with its inputs and outputs.
  const profilePrefix = opts.profilePrefix ? `${opts.profilePrefix}-${randomUUID()}` : null;
  const session = await ort.InferenceSession.create(model, {
    intraOpNumThreads: opts.threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    executionProviders: [opts.provider],
    enableCpuMemArena: opts.memoryArena,
    enableMemPattern: opts.memoryPattern,
    // Subnormal floats flushed to zero: a masked attention score (Swin's shift mask adds -100)
    // comes out of the softmax as about 1e-44, and every product reading such values ran at a
    // fraction of its speed (see bench/NOTES.md, "Subnormal floats"). Values that small change no
    // result beyond float32's rounding.
    extra: { session: { set_denormal_as_zero: '1' } },
    ...(profilePrefix ? { enableProfiling: true, profileFilePrefix: profilePrefix, optimizedModelFilePath: `${profilePrefix}.onnx` } : {}),
  });
  return {
    run: async (feeds, lent = []) => {
      try {
        return await session.run(unshared(feeds)) as Record<string, ort.Tensor>;
      } finally {
        for (const lease of lent) lease.settle(lease.buffer);
      }
    },
    release: async () => {
      if (profilePrefix) session.endProfiling();
      await session.release();
    },
  };
}
