import * as ort from 'onnxruntime-node';
import type { SessionOptions } from './session.ts';

/**
 * What the session pool (session-pool.ts) and its worker threads (session-worker.ts) say to each
 * other. Tensors travel as their parts, each with a buffer of its own that is transferred.
 */
export interface WireTensor { type: ort.Tensor.Type; dims: readonly number[]; data: ort.Tensor.DataType }

export type ToWorker =
  /**
   * Runs a session, creating it first from `model` when the worker does not hold it yet (the
   * pool sends the bytes only then); without feeds it only creates the session.
   */
  | { kind: 'run'; id: number; session: number; model: Uint8Array | null; options: SessionOptions; feeds: Record<string, WireTensor> | null }
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
  | { kind: 'done'; id: number; holds: boolean; outputs: Record<string, WireTensor> | null; error: { name: string; message: string } | null };

/** The worker's role in its workerData, so the entry file does nothing when merely imported. */
export const SESSION_WORKER_ROLE = 'graft-onnx-sessions';

/**
 * Tensors packed for postMessage. Data the caller keeps (feeds: parameters, batches) is copied;
 * ONNX Runtime's outputs are moved when their buffer is theirs alone. A copy also turns views of a
 * SharedArrayBuffer (the loader's batches) into the plain buffers onnxruntime-node accepts.
 */
export function pack(tensors: Record<string, ort.Tensor>, { copy }: { copy: boolean }): { wire: Record<string, WireTensor>; transfer: ArrayBuffer[] } {
  const wire: Record<string, WireTensor> = {};
  const transfer: ArrayBuffer[] = [];
  for (const [name, t] of Object.entries(tensors)) {
    let data = t.data;
    if (ArrayBuffer.isView(data)) {
      const whole = data.buffer instanceof ArrayBuffer && data.byteOffset === 0 && data.byteLength === data.buffer.byteLength;
      if (copy || !whole) data = (data as Float32Array).slice();
      transfer.push((data as Float32Array).buffer as ArrayBuffer);
    }
    wire[name] = { type: t.type, dims: t.dims, data };
  }
  return { wire, transfer };
}

export function unpack(wire: Record<string, WireTensor>): Record<string, ort.Tensor> {
  const tensors: Record<string, ort.Tensor> = {};
  for (const [name, w] of Object.entries(wire)) tensors[name] = new ort.Tensor(w.type, w.data as Float32Array, w.dims);
  return tensors;
}
