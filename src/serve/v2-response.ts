import { topK } from '../jobs/predict.ts';
import type { RequestedOutput } from './v2-request.ts';

export interface InferAnswer {
  /** The body, JSON alone or JSON followed by the binary output. */
  body: Buffer;
  /** Set when the body carries binary data after the JSON (Triton's binary tensor extension). */
  headerLength: number | null;
}

/**
 * The inference response for rows of probabilities: FP32 [N, classes], or with the
 * classification extension BYTES [N, k] of "score:index:label" strings, best first, as Triton
 * writes them; as JSON data or, when asked, as binary after the JSON.
 */
export function inferResponse(
  rows: readonly Float32Array[],
  labels: readonly string[],
  request: { id: string | undefined; output: RequestedOutput },
  names: { model: string; version: string; output: string },
): InferAnswer {
  const { classification, binary } = request.output;
  const classes = labels.length;
  let tensor: { datatype: string; shape: number[]; values: number[] | string[]; raw: () => Buffer };
  if (classification !== null) {
    const values = rows.flatMap((row) => topK(row, classification, labels).map((t) => `${t.prob}:${t.index}:${t.label}`));
    tensor = { datatype: 'BYTES', shape: [rows.length, classification], values, raw: () => lengthPrefixed(values) };
  } else {
    const flat = new Float32Array(rows.length * classes);
    rows.forEach((r, i) => flat.set(r, i * classes));
    tensor = { datatype: 'FP32', shape: [rows.length, classes], values: Array.from(flat), raw: () => Buffer.from(flat.buffer, flat.byteOffset, flat.byteLength) };
  }
  const head: { outputs: Record<string, unknown>[] } & Record<string, unknown> = {
    model_name: names.model,
    model_version: names.version,
    ...(request.id !== undefined ? { id: request.id } : {}),
    outputs: [{
      name: names.output,
      datatype: tensor.datatype,
      shape: tensor.shape,
      ...(binary ? { parameters: { binary_data_size: 0 } } : { data: tensor.values }),
    }],
  };
  if (!binary) return { body: Buffer.from(JSON.stringify(head)), headerLength: null };
  const raw = tensor.raw();
  head.outputs[0].parameters = { binary_data_size: raw.length };
  const json = Buffer.from(JSON.stringify(head));
  return { body: Buffer.concat([json, raw]), headerLength: json.length };
}

/** BYTES elements in the binary layout: a 4-byte little-endian length before each. */
function lengthPrefixed(values: readonly string[]): Buffer {
  const parts = values.flatMap((v) => {
    const bytes = Buffer.from(v, 'utf8');
    const len = Buffer.alloc(4);
    len.writeUInt32LE(bytes.length);
    return [len, bytes];
  });
  return Buffer.concat(parts);
}
