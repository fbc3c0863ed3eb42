/**
 * safetensors (timm, Hugging Face): an 8-byte little-endian header length, a JSON header naming
 * each tensor's dtype, shape and byte range, then the raw little-endian data. No code, by design.
 *
 * This file also holds the element codec the `.pth` reader and writer share: raw little-endian
 * bytes of a stored dtype to and from the widened `HostTensor` types.
 */
import { readFile } from 'node:fs/promises';
import type { HostTensor, SourceDType, StateDict } from '../nn/state-dict.ts';
import { numel } from '../graph/tensor.ts';
import { describe } from '../errors/index.ts';
import { cannotRead, truncated } from './errors.ts';
import { writeFileAtomic } from './atomic-write.ts';

export const ELEMENT_SIZE: Record<SourceDType, number> = {
  float32: 4,
  float64: 8,
  float16: 2,
  bfloat16: 2,
  int64: 8,
  int32: 4,
  int16: 2,
  int8: 1,
  uint8: 1,
  bool: 1,
};

export function isFloatDType(dtype: SourceDType): boolean {
  return dtype === 'float32' || dtype === 'float64' || dtype === 'float16' || dtype === 'bfloat16';
}

// --- decoding: stored bytes -> widened elements ---

let halfTable: Float32Array | undefined;

/** All 65536 float16 values, so decoding a half tensor is one lookup per element. */
function halfToFloatTable(): Float32Array {
  if (halfTable) return halfTable;
  halfTable = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >> 10) & 0x1f;
    const frac = h & 0x3ff;
    if (exp === 0) halfTable[h] = sign * frac * 2 ** -24;
    else if (exp === 31) halfTable[h] = frac ? NaN : sign * Infinity;
    else halfTable[h] = sign * (1 + frac / 1024) * 2 ** (exp - 15);
  }
  return halfTable;
}

/** A typed-array view of `bytes`, copied first only when the bytes are not aligned for it. */
function aligned<T>(bytes: Uint8Array, size: number, make: (buffer: ArrayBufferLike, offset: number, length: number) => T): T {
  const length = bytes.byteLength / size;
  if (bytes.byteOffset % size === 0) return make(bytes.buffer, bytes.byteOffset, length);
  return make(new Uint8Array(bytes).buffer, 0, length); // a copy, even of a Buffer
}

/**
 * Decodes `count` elements of `dtype` from little-endian `bytes` (exactly count * size bytes),
 * widened to float32 or int64. The result never aliases `bytes`.
 */
export function decodeElements(bytes: Uint8Array, dtype: SourceDType, count: number): Float32Array | BigInt64Array {
  const data = bytes.subarray(0, count * ELEMENT_SIZE[dtype]);
  switch (dtype) {
    case 'float32':
      return aligned(data, 4, (b, o, n) => new Float32Array(b, o, n)).slice();
    case 'float64':
      return Float32Array.from(aligned(data, 8, (b, o, n) => new Float64Array(b, o, n)));
    case 'float16': {
      const table = halfToFloatTable();
      const half = aligned(data, 2, (b, o, n) => new Uint16Array(b, o, n));
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = table[half[i]];
      return out;
    }
    case 'bfloat16': {
      // bfloat16 is the top half of a float32.
      const half = aligned(data, 2, (b, o, n) => new Uint16Array(b, o, n));
      const bits = new Uint32Array(count);
      for (let i = 0; i < count; i++) bits[i] = half[i] << 16;
      return new Float32Array(bits.buffer);
    }
    case 'int64':
      return aligned(data, 8, (b, o, n) => new BigInt64Array(b, o, n)).slice();
    case 'int32':
      return widenInts(aligned(data, 4, (b, o, n) => new Int32Array(b, o, n)));
    case 'int16':
      return widenInts(aligned(data, 2, (b, o, n) => new Int16Array(b, o, n)));
    case 'int8':
      return widenInts(new Int8Array(data.buffer, data.byteOffset, count));
    case 'uint8':
      return widenInts(data);
    case 'bool': {
      const out = new BigInt64Array(count);
      for (let i = 0; i < count; i++) out[i] = data[i] ? 1n : 0n;
      return out;
    }
  }
}

function widenInts(values: ArrayLike<number>): BigInt64Array {
  const out = new BigInt64Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = BigInt(values[i]);
  return out;
}

// --- encoding: widened elements -> stored bytes ---

const scratchF32 = new Float32Array(1);
const scratchU32 = new Uint32Array(scratchF32.buffer);

/** float32 -> float16 bits, rounding to nearest even like PyTorch's `.half()`. */
export function floatToHalf(value: number): number {
  scratchF32[0] = value;
  const x = scratchU32[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let half = mant >>> shift;
    const rest = mant & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    if (rest > mid || (rest === mid && half & 1)) half++;
    return sign | half;
  }
  let half = (e << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  // A carry out of the mantissa correctly bumps the exponent (up to infinity).
  if (rest > 0x1000 || (rest === 0x1000 && half & 1)) half++;
  return sign | half;
}

/** float32 -> bfloat16 bits, rounding to nearest even; NaN stays NaN. */
export function floatToBfloat16(value: number): number {
  scratchF32[0] = value;
  const x = scratchU32[0];
  if ((x & 0x7fffffff) > 0x7f800000) return (x >>> 16) | 0x40;
  return ((x + 0x7fff + ((x >>> 16) & 1)) >>> 16) & 0xffff;
}

const INT_RANGES: Partial<Record<SourceDType, [bigint, bigint]>> = {
  int32: [-(2n ** 31n), 2n ** 31n - 1n],
  int16: [-(2n ** 15n), 2n ** 15n - 1n],
  int8: [-128n, 127n],
  uint8: [0n, 255n],
  bool: [0n, 1n],
};

/** The dtype a writer stores `tensor` as: its `sourceDtype` when the data can go back to it. */
export function storedDType(tensor: HostTensor, keepSourceDtype: boolean): SourceDType {
  const source = tensor.sourceDtype;
  if (!keepSourceDtype || !source) return tensor.dtype;
  return isFloatDType(source) === (tensor.dtype === 'float32') ? source : tensor.dtype;
}

/** Encodes `tensor` as little-endian bytes of `dtype`; integers that do not fit are refused by key. */
export function encodeElements(tensor: HostTensor, dtype: SourceDType, key: string): Uint8Array {
  const n = tensor.data.length;
  const asBytes = (a: ArrayBufferView) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  if (tensor.dtype === 'float32') {
    const src = tensor.data;
    switch (dtype) {
      case 'float32':
        return asBytes(src);
      case 'float64':
        return asBytes(Float64Array.from(src));
      case 'float16':
        return asBytes(Uint16Array.from(src, floatToHalf));
      case 'bfloat16':
        return asBytes(Uint16Array.from(src, floatToBfloat16));
      default:
        throw new TypeError(`Cannot store float32 tensor "${key}" as ${dtype}`);
    }
  }
  const src = tensor.data;
  if (dtype === 'int64') return asBytes(src);
  const range = INT_RANGES[dtype];
  if (!range) throw new TypeError(`Cannot store int64 tensor "${key}" as ${dtype}`);
  for (let i = 0; i < n; i++) {
    if (src[i] < range[0] || src[i] > range[1]) {
      throw new RangeError(`Cannot store tensor "${key}" as ${dtype}: element ${i} is ${src[i]}, outside ${range[0]}..${range[1]}`);
    }
  }
  const values = Array.from(src, Number);
  switch (dtype) {
    case 'int32':
      return asBytes(Int32Array.from(values));
    case 'int16':
      return asBytes(Int16Array.from(values));
    case 'int8':
      return asBytes(Int8Array.from(values));
    default:
      return Uint8Array.from(values);
  }
}

// --- the safetensors format ---

const DTYPE_NAMES: Record<string, SourceDType> = {
  F32: 'float32',
  F16: 'float16',
  BF16: 'bfloat16',
  F64: 'float64',
  I64: 'int64',
  I32: 'int32',
  I16: 'int16',
  I8: 'int8',
  U8: 'uint8',
  BOOL: 'bool',
};
const NAME_OF_DTYPE = Object.fromEntries(Object.entries(DTYPE_NAMES).map(([k, v]) => [v, k])) as Record<SourceDType, string>;

/** The reference implementation refuses headers above 100 MB; so does this one. */
const MAX_HEADER = 100_000_000;

interface HeaderEntry {
  key: string;
  dtype: SourceDType;
  shape: number[];
  begin: number;
  end: number;
}

export async function readSafetensors(path: string): Promise<StateDict> {
  return readSafetensorsBuffer(await readFile(path), path);
}

export function readSafetensorsBuffer(bytes: Uint8Array, name: string): StateDict {
  const { entries, dataStart } = parseHeader(bytes, name);
  const out: StateDict = new Map();
  for (const e of entries) {
    const data = decodeElements(bytes.subarray(dataStart + e.begin, dataStart + e.end), e.dtype, numel(e.shape));
    const tensor = data instanceof Float32Array
      ? { dtype: 'float32' as const, shape: e.shape, data, sourceDtype: e.dtype }
      : { dtype: 'int64' as const, shape: e.shape, data, sourceDtype: e.dtype };
    out.set(e.key, tensor);
  }
  return out;
}

/** The `__metadata__` string map of a safetensors file (empty when it has none). */
export function readSafetensorsMetadata(bytes: Uint8Array, name: string): Record<string, string> {
  return parseHeader(bytes, name).metadata;
}

function parseHeader(bytes: Uint8Array, name: string): { entries: HeaderEntry[]; dataStart: number; metadata: Record<string, string> } {
  if (bytes.length < 8) throw truncated(name, 'the safetensors header length', 8, 0, bytes.length);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getBigUint64(0, true);
  if (headerLength > BigInt(bytes.length - 8)) {
    throw cannotRead(name, `safetensors header length is ${headerLength} bytes but the file has only ${bytes.length - 8} after it (truncated, or not a safetensors file)`);
  }
  if (headerLength > BigInt(MAX_HEADER)) throw cannotRead(name, `safetensors header length ${headerLength} exceeds ${MAX_HEADER} bytes`);
  if (headerLength < 2n) throw cannotRead(name, `safetensors header length is ${headerLength}, too short for a JSON object`);
  const dataStart = 8 + Number(headerLength);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, dataStart)));
  } catch (error) {
    throw cannotRead(name, `safetensors header is not valid UTF-8 JSON (${(error as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) {
    throw cannotRead(name, 'safetensors header is not a JSON object');
  }
  const dataLength = bytes.length - dataStart;
  let metadata: Record<string, string> = {};
  const entries: HeaderEntry[] = [];
  for (const [key, value] of Object.entries(header)) {
    if (key === '__metadata__') metadata = parseMetadata(value, name);
    else entries.push(parseEntry(key, value, dataLength, name));
  }
  // The file's own order, which JSON key order does not guarantee.
  entries.sort((a, b) => a.begin - b.begin);
  return { entries, dataStart, metadata };
}

function parseMetadata(value: unknown, name: string): Record<string, string> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw cannotRead(name, 'safetensors "__metadata__" is not an object of strings');
  }
  for (const [k, v] of Object.entries(value)) {
    if (typeof v !== 'string') throw cannotRead(name, `safetensors "__metadata__" entry "${k}" is ${describe(v)}, not a string`);
  }
  return value as Record<string, string>;
}

function parseEntry(key: string, value: unknown, dataLength: number, name: string): HeaderEntry {
  const where = `safetensors entry "${key}"`;
  const v = value as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
  if (typeof value !== 'object' || value === null) throw cannotRead(name, `${where} is not an object`);
  const dtype = typeof v.dtype === 'string' && Object.hasOwn(DTYPE_NAMES, v.dtype) ? DTYPE_NAMES[v.dtype] : undefined;
  if (!dtype) throw cannotRead(name, `${where} has dtype ${describe(v.dtype)}; expected one of ${Object.keys(DTYPE_NAMES).join(', ')}`);
  const isCount = (x: unknown): x is number => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;
  if (!Array.isArray(v.shape) || !v.shape.every(isCount)) throw cannotRead(name, `${where} has shape ${JSON.stringify(v.shape)}; expected non-negative integers`);
  const offsets = v.data_offsets;
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isCount) || offsets[0] > offsets[1]) {
    throw cannotRead(name, `${where} has data_offsets ${JSON.stringify(offsets)}; expected [begin, end] with begin <= end`);
  }
  const [begin, end] = offsets as [number, number];
  if (end > dataLength) throw cannotRead(name, `${where} ends at byte ${end} of the data but the data has ${dataLength} bytes (truncated?)`);
  const shape = v.shape as number[];
  const expected = numel(shape) * ELEMENT_SIZE[dtype];
  if (end - begin !== expected) {
    throw cannotRead(name, `${where} has ${end - begin} bytes but ${dtype} shape [${shape.join(', ')}] needs ${expected}`);
  }
  return { key, dtype, shape, begin, end };
}

export interface WriteSafetensorsOptions {
  /** Store each tensor in its `sourceDtype` (default true), so a float16 file stays float16. */
  keepSourceDtype?: boolean;
}

/** Writes `stateDict` as a safetensors file, atomically (a temp file renamed into place). */
export async function writeSafetensors(
  path: string,
  stateDict: StateDict,
  metadata?: Record<string, string>,
  options: WriteSafetensorsOptions = {},
): Promise<void> {
  await writeFileAtomic(path, encodeSafetensors(stateDict, metadata, options));
}

/** The bytes of a safetensors file, as chunks in file order. */
export function encodeSafetensors(stateDict: StateDict, metadata?: Record<string, string>, options: WriteSafetensorsOptions = {}): Uint8Array[] {
  const header: Record<string, unknown> = {};
  if (metadata) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') throw new TypeError(`safetensors metadata "${k}" must be a string, got ${describe(v)}`);
    }
    header.__metadata__ = metadata;
  }
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const [key, tensor] of stateDict) {
    if (key === '__metadata__') throw new RangeError('A tensor cannot be named "__metadata__" in safetensors');
    checkTensor(key, tensor);
    const dtype = storedDType(tensor, options.keepSourceDtype ?? true);
    const data = encodeElements(tensor, dtype, key);
    header[key] = { dtype: NAME_OF_DTYPE[dtype], shape: tensor.shape, data_offsets: [offset, offset + data.byteLength] };
    chunks.push(data);
    offset += data.byteLength;
  }
  let json = JSON.stringify(header);
  // Pad with spaces so the data starts 8-byte aligned, as the reference writer does.
  const jsonLength = Buffer.byteLength(json);
  json += ' '.repeat((8 - ((8 + jsonLength) % 8)) % 8);
  const head = Buffer.alloc(8 + Buffer.byteLength(json));
  head.writeBigUInt64LE(BigInt(Buffer.byteLength(json)), 0);
  head.write(json, 8, 'utf8');
  return [head, ...chunks];
}

/** A tensor whose data does not match its shape would write a file no reader accepts. */
export function checkTensor(key: string, tensor: HostTensor): void {
  if (tensor.data.length !== numel(tensor.shape)) {
    throw new RangeError(`Tensor "${key}" has ${tensor.data.length} elements but shape [${tensor.shape.join(', ')}] needs ${numel(tensor.shape)}`);
  }
}
