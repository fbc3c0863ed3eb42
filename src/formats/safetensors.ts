/**
 * safetensors (timm, Hugging Face): an 8-byte little-endian header length, a JSON header naming
 * each tensor's dtype, shape and byte range, then the raw little-endian data. No code, by design.
 */
import { readFile } from 'node:fs/promises';
import type { SourceDType, StateDict } from '../nn/state-dict.ts';
import { numel } from '../graph/tensor.ts';
import { describe, invalidType } from '../errors/index.ts';
import { cannotRead, isCount, truncated } from './errors.ts';
import { writeFileAtomic } from './atomic-write.ts';
import { ELEMENT_SIZE, checkTensor, decodeElements, encodeElements, isFloatDType, storedDType } from './element-codec.ts';
import { matchExpected, type ReadWeightsOptions } from './expected-state.ts';
import { topLevelKeys } from './json-keys.ts';

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

export async function readSafetensors(path: string, options: ReadWeightsOptions = {}): Promise<StateDict> {
  return readSafetensorsBuffer(await readFile(path), path, options);
}

/** Given `expected`, the header is compared with the model before any tensor is decoded. */
export function readSafetensorsBuffer(bytes: Uint8Array, name: string, options: ReadWeightsOptions = {}): StateDict {
  const { entries, dataStart } = parseHeader(bytes, name);
  const specs = new Map(entries.map((e) => [e.key, { dtype: isFloatDType(e.dtype) ? ('float32' as const) : ('int64' as const), shape: e.shape }]));
  const keys = matchExpected(specs, name, options);
  const out: StateDict = new Map();
  for (const e of entries) {
    const data = decodeElements(bytes.subarray(dataStart + e.begin, dataStart + e.end), e.dtype, numel(e.shape));
    const tensor = data instanceof Float32Array
      ? { dtype: 'float32' as const, shape: e.shape, data, sourceDtype: e.dtype }
      : { dtype: 'int64' as const, shape: e.shape, data, sourceDtype: e.dtype };
    out.set(keys.get(e.key) ?? e.key, tensor);
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
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, dataStart));
    header = JSON.parse(text);
  } catch (error) {
    throw cannotRead(name, `safetensors header is not valid UTF-8 JSON (${(error as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) {
    throw cannotRead(name, 'safetensors header is not a JSON object');
  }
  // JSON.parse keeps the last of two equal keys: the file would load a tensor it does not show.
  const seen = new Set<string>();
  for (const key of topLevelKeys(text)) {
    if (seen.has(key)) throw cannotRead(name, `safetensors header names "${key}" twice`);
    seen.add(key);
  }
  const dataLength = bytes.length - dataStart;
  let metadata: Record<string, string> = {};
  const entries: HeaderEntry[] = [];
  for (const [key, value] of Object.entries(header)) {
    if (key === '__metadata__') metadata = parseMetadata(value, name);
    else entries.push(parseEntry(key, value, dataLength, name));
  }
  // The file's own order, which JSON key order does not guarantee.
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  checkLayout(entries, dataLength, name);
  return { entries, dataStart, metadata };
}

/**
 * As the reference implementation: the tensors tile the data exactly, each starting where the one
 * before ends. An overlap would let two tensors share (and silently alter) bytes; a gap or bytes
 * after the last tensor hold data no tensor shows.
 */
function checkLayout(entries: readonly HeaderEntry[], dataLength: number, name: string): void {
  let end = 0;
  let previous: HeaderEntry | undefined;
  for (const e of entries) {
    if (e.begin < end) {
      throw cannotRead(name, `safetensors entries "${previous!.key}" (bytes ${previous!.begin}..${previous!.end}) and "${e.key}" (bytes ${e.begin}..${e.end}) overlap`);
    }
    if (e.begin > end) {
      throw cannotRead(name, `safetensors data has a gap: bytes ${end}..${e.begin} belong to no tensor (before "${e.key}")`);
    }
    end = e.end;
    previous = e;
  }
  if (end !== dataLength) {
    throw cannotRead(name, `safetensors data has ${dataLength - end} bytes after the last tensor (its tensors end at byte ${end} of ${dataLength})`);
  }
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
      if (typeof v !== 'string') throw invalidType(`metadata "${k}" of a safetensors file`, 'a string', v);
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
