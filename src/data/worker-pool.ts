import { Worker } from 'node:worker_threads';
import { workerEntry } from './worker-entry.ts';
import { DecodeError } from './decode.ts';
import { imageTensor, type ImageTensor } from './image.ts';
import type { TransformSpec } from './transforms/transform.ts';

interface Pending { resolve: (t: ImageTensor) => void; reject: (e: Error) => void; worker: number; slot?: Slot }

/** A place in a shared batch buffer, in floats, where a worker writes a sample's tensor directly. */
export interface Slot {
  buffer: SharedArrayBuffer;
  offset: number;
  length: number;
}

/**
 * A fixed set of worker threads running decode + transform. Tasks go to the least busy worker;
 * results come back as transferred Float32Arrays (no copy).
 */
export class WorkerPool {
  private readonly workers: Worker[];
  private readonly busy: number[];
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;

  constructor(size: number, spec: TransformSpec | null, maxPixels?: number, nativeCrop = true) {
    const entry = workerEntry(import.meta.url, 'loader-worker');
    this.workers = Array.from({ length: size }, (_, w) => {
      const worker = new Worker(entry.script, { eval: entry.eval, workerData: { spec, maxPixels, nativeCrop } });
      worker.on('message', (m) => this.onMessage(m));
      worker.on('error', (e) => this.failWorker(w, e));
      worker.unref();
      return worker;
    });
    this.busy = new Array(size).fill(0);
  }

  /**
   * Decodes and transforms one image: a file the worker reads, or encoded bytes, which are
   * transferred to the worker (the caller gives up the buffer).
   */
  run(file: string | Uint8Array, seeds: number[], slot?: Slot): Promise<ImageTensor> {
    const id = this.nextId++;
    let w = 0;
    for (let i = 1; i < this.workers.length; i++) if (this.busy[i] < this.busy[w]) w = i;
    this.busy[w]++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, worker: w, slot });
      this.workers[w].ref();
      this.workers[w].postMessage({ id, file, seeds, slot }, typeof file === 'string' ? [] : [file.buffer as ArrayBuffer]);
    });
  }

  private onMessage(m: { id: number; shape?: [number, number, number]; data?: Float32Array; inSlot?: boolean; error?: { bad: boolean; file: string; message: string } }): void {
    const p = this.pending.get(m.id);
    if (!p) return;
    this.pending.delete(m.id);
    if (--this.busy[p.worker] === 0) this.workers[p.worker].unref();
    if (m.error) p.reject(m.error.bad ? new DecodeError(m.error.file, m.error.message) : new Error(m.error.message));
    else if (m.inSlot && p.slot) p.resolve(imageTensor(m.shape![0], m.shape![1], m.shape![2], new Float32Array(p.slot.buffer, p.slot.offset * 4, p.slot.length)));
    else p.resolve(imageTensor(m.shape![0], m.shape![1], m.shape![2], m.data));
  }

  private failWorker(w: number, error: Error): void {
    for (const [id, p] of this.pending) {
      if (p.worker === w) {
        this.pending.delete(id);
        p.reject(error);
      }
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
