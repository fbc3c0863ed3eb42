import * as ort from 'onnxruntime-node';
import type { SessionOptions } from './session.ts';

/**
 * What the session pool (session-pool.ts) and its worker threads (session-worker.ts) say to each
 * other. Tensors travel as their parts; buffers are transferred, never shared.
 */
export interface WireTensor { type: ort.Tensor.Type; dims: readonly number[]; data: ort.Tensor.DataType }

export type ToWorker =
  /**
   * Runs a session, creating it first from `model` when the worker does not hold it yet (the
   * pool sends the bytes only then); without feeds it only creates the session. The feeds are
   * views of `staging` or of one of the `lent` buffers (moved here, not copied: see
   * feed-buffers.ts), all of which come back with the reply.
   */
  | {
    kind: 'run'; id: number; session: number; model: Uint8Array | null; options: SessionOptions;
    feeds: Record<string, WireTensor> | null; staging: ArrayBuffer | null; lent: ArrayBuffer[];
  }
  | { kind: 'release'; id: number; session: number }
  /**
   * Ends the thread at its next turn of the event loop, after any native run in progress:
   * onnxruntime-node cannot be interrupted, and terminating a thread inside one of its calls
   * aborts the whole process.
   */
  | { kind: 'exit'; code: number };

export type FromWorker =
  | { kind: 'ready' }
  /** `holds`: whether the worker holds the session after this message (a failed creation does not). */
  | {
    kind: 'done'; id: number; holds: boolean; outputs: Record<string, WireTensor> | null; staging: ArrayBuffer | null;
    /** The run's lent buffers, in the order they came. */
    lent: ArrayBuffer[];
    error: { name: string; message: string } | null;
  };

/** The worker's role in its workerData, so the entry file does nothing when merely imported. */
export const SESSION_WORKER_ROLE = 'graft-onnx-sessions';

type NumericArray = Exclude<ort.Tensor.DataType, string[]>;
type NumericArrayConstructor = new (buffer: ArrayBuffer, byteOffset: number, length: number) => NumericArray;

const align8 = (n: number) => Math.ceil(n / 8) * 8;

/**
 * Copies the feeds into one staging buffer, growing it when they do not fit, and describes them
 * as views of it. The buffer is reused run after run (it travels to the worker and back), so the
 * copy writes into memory already mapped: a fresh buffer per run costs page faults that made the
 * copy of a 224x224 batch of 32 several times slower. The copy also turns views of a
 * SharedArrayBuffer (the loader's batches) into the plain memory onnxruntime-node accepts.
 */
export function stageFeeds(tensors: Record<string, ort.Tensor>, staging: ArrayBuffer | null): { wire: Record<string, WireTensor>; staging: ArrayBuffer } {
  const entries = Object.entries(tensors);
  for (const [name, t] of entries) if (!ArrayBuffer.isView(t.data)) throw new TypeError(`Expected numeric data for feed '${name}' but received ${t.type} values`);
  const bytes = entries.reduce((sum, [, t]) => sum + align8((t.data as NumericArray).byteLength), 0);
  const buffer = staging && staging.byteLength >= bytes ? staging : new ArrayBuffer(bytes);
  const wire: Record<string, WireTensor> = {};
  let offset = 0;
  for (const [name, t] of entries) {
    const source = t.data as NumericArray;
    const view = new (source.constructor as NumericArrayConstructor)(buffer, offset, source.length);
    (view as Float32Array).set(source as Float32Array);
    wire[name] = { type: t.type, dims: t.dims, data: view };
    offset += align8(source.byteLength);
  }
  return { wire, staging: buffer };
}

/** ONNX Runtime's outputs, moved: each has a buffer of its own, or is copied into one; `keep` (the inputs' buffers) go back apart. */
export function packOutputs(tensors: Record<string, ort.Tensor>, keep: readonly ArrayBuffer[]): { wire: Record<string, WireTensor>; transfer: ArrayBuffer[] } {
  const wire: Record<string, WireTensor> = {};
  const transfer: ArrayBuffer[] = [];
  for (const [name, t] of Object.entries(tensors)) {
    let data = t.data as NumericArray;
    const whole = data.buffer instanceof ArrayBuffer && !keep.includes(data.buffer) && !transfer.includes(data.buffer)
      && data.byteOffset === 0 && data.byteLength === data.buffer.byteLength;
    if (!whole) data = data.slice();
    transfer.push(data.buffer as ArrayBuffer);
    wire[name] = { type: t.type, dims: t.dims, data };
  }
  return { wire, transfer };
}

export function toOrtTensors(wire: Record<string, WireTensor>): Record<string, ort.Tensor> {
  const tensors: Record<string, ort.Tensor> = {};
  for (const [name, w] of Object.entries(wire)) tensors[name] = new ort.Tensor(w.type, w.data as Float32Array, w.dims);
  return tensors;
}
