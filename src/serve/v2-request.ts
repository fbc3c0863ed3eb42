import { describe } from '../errors/index.ts';
import { badRequest } from './http-error.ts';

/**
 * An Open Inference Protocol (KServe v2) inference request, checked against the one model input
 * graft serves: `input`, either FP32 [N, 3, crop, crop] (preprocessed and normalized, as the
 * metadata says) or BYTES [N] (encoded images, each preprocessed as `graft predict` does). JSON
 * data may be flat or nested; Triton's binary tensor extension (`Inference-Header-Content-Length`,
 * `binary_data_size`) carries either kind without JSON numbers or base64.
 */
export interface InferRequest {
  id: string | undefined;
  input: { kind: 'tensor'; data: Float32Array; n: number } | { kind: 'images'; images: Uint8Array[] };
  output: RequestedOutput;
}

export interface RequestedOutput {
  /** Triton's classification extension: the k best classes as "score:index:label" strings. */
  classification: number | null;
  /** Answer this output as raw bytes after the JSON (the binary tensor extension). */
  binary: boolean;
}

export interface ModelInputs {
  inputName: string;
  outputName: string;
  /** One image: [3, crop, crop]. */
  imageShape: readonly number[];
  classes: number;
  /** Images one request may carry. */
  maxImages: number;
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The request in `body`: JSON, or JSON followed by binary tensors when `headerLength` is given. */
export function parseInferRequest(body: Buffer, headerLength: string | undefined, model: ModelInputs): InferRequest {
  let jsonBytes = body;
  let binary: Buffer | null = null;
  if (headerLength !== undefined) {
    const n = Number(headerLength);
    if (!/^\d+$/.test(headerLength) || n > body.length) {
      throw badRequest(`Inference-Header-Content-Length must be an integer from 0 to the body's ${body.length} bytes, not ${JSON.stringify(headerLength)}`);
    }
    jsonBytes = body.subarray(0, n);
    binary = body.subarray(n);
  }
  let request: unknown;
  try {
    request = JSON.parse(jsonBytes.toString('utf8'));
  } catch (error) {
    throw badRequest(`the request body is not valid JSON: ${(error as Error).message}`);
  }
  if (!isObject(request)) throw badRequest(`the request must be a JSON object with "inputs", not ${describe(request)}`);
  const id = request.id;
  if (id !== undefined && typeof id !== 'string') throw badRequest(`"id" must be a string, not ${describe(id)}`);
  const { inputs } = request;
  if (!Array.isArray(inputs) || inputs.length === 0) throw badRequest(`"inputs" must be a non-empty array of tensors, not ${describe(inputs)}`);
  if (inputs.length > 1) throw badRequest(`this model takes one input ("${model.inputName}"), the request has ${inputs.length}`);
  const blobs = binaryCursor(binary);
  const input = parseInput(inputs[0], model, blobs);
  blobs.finish();
  return { id, input, output: parseOutputs(request.outputs, model) };
}

function parseInput(raw: unknown, model: ModelInputs, blobs: BinaryCursor): InferRequest['input'] {
  const where = 'inputs[0]';
  if (!isObject(raw)) throw badRequest(`${where} must be an object with name, shape, datatype and data, not ${describe(raw)}`);
  if (raw.name !== model.inputName) throw badRequest(`${where}.name must be "${model.inputName}" (the model's input), not ${describe(raw.name)}`);
  const shape = raw.shape;
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw badRequest(`${where}.shape must be an array of non-negative integers, not ${describe(shape)}`);
  }
  const params = raw.parameters === undefined ? {} : raw.parameters;
  if (!isObject(params)) throw badRequest(`${where}.parameters must be an object, not ${describe(params)}`);
  const binarySize = params.binary_data_size;
  if (binarySize !== undefined && !(Number.isSafeInteger(binarySize) && (binarySize as number) >= 0)) {
    throw badRequest(`${where}.parameters.binary_data_size must be a non-negative integer, not ${describe(binarySize)}`);
  }
  const n = shape[0] as number;
  const imageShape = `[N, ${model.imageShape.join(', ')}]`;
  if (n < 1 || n > model.maxImages) throw badRequest(`${where}.shape[0] is the number of images: from 1 to ${model.maxImages}, not ${describe(n)}`);
  switch (raw.datatype) {
    case 'FP32': {
      if (shape.length !== 1 + model.imageShape.length || model.imageShape.some((d, i) => shape[i + 1] !== d)) {
        throw badRequest(`${where}.shape must be ${imageShape} for FP32 (preprocessed images), not [${shape.join(', ')}]`);
      }
      const count = n * model.imageShape.reduce((a, b) => a * b, 1);
      const data = binarySize !== undefined ? floatsFromBinary(blobs.take(binarySize as number, where), count, where) : floatsFromJson(raw.data, count, where);
      return { kind: 'tensor', data, n };
    }
    case 'BYTES': {
      if (!(shape.length === 1 || (shape.length === 2 && shape[1] === 1))) {
        throw badRequest(`${where}.shape must be [N] or [N, 1] for BYTES (one encoded image each), not [${shape.join(', ')}]`);
      }
      const images = binarySize !== undefined ? bytesFromBinary(blobs.take(binarySize as number, where), n, where) : bytesFromJson(raw.data, n, where);
      return { kind: 'images', images };
    }
    default:
      throw badRequest(`${where}.datatype must be "FP32" (preprocessed images ${imageShape}) or "BYTES" (encoded images [N]), not ${describe(raw.datatype)}`);
  }
}

function parseOutputs(raw: unknown, model: ModelInputs): RequestedOutput {
  if (raw === undefined) return { classification: null, binary: false };
  if (!Array.isArray(raw) || raw.length > 1) throw badRequest(`"outputs" must be an array of at most one output ("${model.outputName}"), not ${describe(raw)}`);
  if (raw.length === 0) return { classification: null, binary: false };
  const out = raw[0];
  if (!isObject(out)) throw badRequest(`outputs[0] must be an object with a name, not ${describe(out)}`);
  if (out.name !== model.outputName) throw badRequest(`outputs[0].name must be "${model.outputName}" (the model's output), not ${describe(out.name)}`);
  const params = out.parameters === undefined ? {} : out.parameters;
  if (!isObject(params)) throw badRequest(`outputs[0].parameters must be an object, not ${describe(params)}`);
  const k = params.classification;
  if (k !== undefined && !(Number.isSafeInteger(k) && (k as number) >= 1 && (k as number) <= model.classes)) {
    throw badRequest(`outputs[0].parameters.classification must be an integer from 1 to ${model.classes} (the model's classes), not ${describe(k)}`);
  }
  const binary = params.binary_data;
  if (binary !== undefined && typeof binary !== 'boolean') throw badRequest(`outputs[0].parameters.binary_data must be a boolean, not ${describe(binary)}`);
  return { classification: (k as number | undefined) ?? null, binary: binary ?? false };
}

/** JSON numbers, flat or nested as the shape, into float32; checks count and types without recursion. */
function floatsFromJson(data: unknown, count: number, where: string): Float32Array {
  if (!Array.isArray(data)) throw badRequest(`${where}.data must be an array of numbers, not ${describe(data)}`);
  const out = new Float32Array(count);
  let filled = 0;
  const stack: unknown[][] = [data];
  const index: number[] = [0];
  while (stack.length > 0) {
    const top = stack[stack.length - 1];
    const i = index[index.length - 1]++;
    if (i === top.length) {
      stack.pop();
      index.pop();
      continue;
    }
    const v = top[i];
    if (typeof v === 'number') {
      if (filled === count) throw badRequest(`${where}.data holds more than the ${count} values its shape gives`);
      out[filled++] = v;
    } else if (Array.isArray(v) && stack.length < 8) {
      stack.push(v);
      index.push(0);
    } else {
      throw badRequest(`${where}.data must hold only numbers (flat, or nested as the shape), found ${describe(v)}`);
    }
  }
  if (filled !== count) throw badRequest(`${where}.data holds ${filled} values, its shape gives ${count}`);
  return out;
}

function floatsFromBinary(blob: Buffer, count: number, where: string): Float32Array {
  if (blob.length !== count * 4) throw badRequest(`${where} has ${blob.length} binary bytes, its FP32 shape needs ${count * 4}`);
  const out = new Float32Array(count);
  new Uint8Array(out.buffer).set(blob);
  return out;
}

/** Base64 strings, one encoded image each. */
function bytesFromJson(data: unknown, n: number, where: string): Uint8Array[] {
  const flat = Array.isArray(data) && data.length === n && data.every(Array.isArray) ? data.flat() : data;
  if (!Array.isArray(flat) || flat.length !== n) throw badRequest(`${where}.data must be an array of ${n} base64 strings (one encoded image each), not ${describe(data)}`);
  return flat.map((s, i) => {
    if (typeof s !== 'string' || s.length === 0 || s.length % 4 === 1 || !BASE64.test(s)) {
      throw badRequest(`${where}.data[${i}] must be an encoded image in base64, not ${typeof s === 'string' ? `a string of ${s.length} characters that is not base64` : describe(s)}`);
    }
    return Buffer.from(s, 'base64');
  });
}

/** The binary extension's BYTES layout: each element a 4-byte little-endian length, then its bytes. */
function bytesFromBinary(blob: Buffer, n: number, where: string): Uint8Array[] {
  const out: Uint8Array[] = [];
  let at = 0;
  for (let i = 0; i < n; i++) {
    if (at + 4 > blob.length) throw badRequest(`${where}: the binary data ends before element ${i} of ${n}`);
    const len = blob.readUInt32LE(at);
    at += 4;
    if (at + len > blob.length) throw badRequest(`${where}: element ${i} claims ${len} bytes, only ${blob.length - at} remain`);
    out.push(blob.subarray(at, at + len));
    at += len;
  }
  if (at !== blob.length) throw badRequest(`${where}: ${blob.length - at} binary bytes left after its ${n} elements`);
  return out;
}

interface BinaryCursor {
  take(size: number, where: string): Buffer;
  finish(): void;
}

/** The binary part of a request, consumed input by input in order. */
function binaryCursor(binary: Buffer | null): BinaryCursor {
  let at = 0;
  return {
    take(size, where) {
      if (binary === null) throw badRequest(`${where}.parameters.binary_data_size is given but the request has no Inference-Header-Content-Length header`);
      if (at + size > binary.length) throw badRequest(`${where}.parameters.binary_data_size is ${size}, only ${binary.length - at} binary bytes follow the JSON`);
      const blob = binary.subarray(at, at + size);
      at += size;
      return blob;
    },
    finish() {
      if (binary !== null && at !== binary.length) throw badRequest(`${binary.length - at} bytes after the JSON belong to no input (binary_data_size)`);
    },
  };
}
