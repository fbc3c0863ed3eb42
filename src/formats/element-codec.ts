/**
 * The element codec the `.pth` and safetensors readers and writers share: raw little-endian bytes
 * of a stored dtype to and from the widened `HostTensor` types (float32, int64).
 */
import type { HostTensor, SourceDType } from '../nn/state-dict.ts';
import { numel } from '../graph/tensor.ts';
import { bfloat16ToFloats, floatToBfloat16, floatToHalf, halfToFloats } from './half-float.ts';

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
    case 'float16':
      return halfToFloats(aligned(data, 2, (b, o, n) => new Uint16Array(b, o, n)));
    case 'bfloat16':
      return bfloat16ToFloats(aligned(data, 2, (b, o, n) => new Uint16Array(b, o, n)));
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

/** A tensor whose data does not match its shape would write a file no reader accepts. */
export function checkTensor(key: string, tensor: HostTensor): void {
  if (tensor.data.length !== numel(tensor.shape)) {
    throw new RangeError(`Tensor "${key}" has ${tensor.data.length} elements but shape [${tensor.shape.join(', ')}] needs ${numel(tensor.shape)}`);
  }
}
