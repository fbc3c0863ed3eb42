import { ModelProto } from '../graph/onnx-schema.ts';
import { halfToFloat } from './half-float.ts';

/**
 * An ONNX file read and checked: every tensor's size against the bytes it holds, every node's
 * inputs against what the graph produces, the graph for cycles. What comes out can be walked,
 * cut and re-emitted without further checks. Protobuf objects are kept as decoded (int64 fields
 * as decimal strings, so INT64_MAX in a Slice survives), because they are re-emitted as they are.
 */

/** A problem with an ONNX file; the message names the file and, where there is one, the node. */
export class OnnxImportError extends Error {
  override name = 'OnnxImportError';
  constructor(readonly file: string, message: string) {
    super(message);
  }
}

export const onnxError = (file: string, problem: string) => new OnnxImportError(file, `Cannot import ONNX model "${file}": ${problem}`);

/** TensorProto element types graft understands, with their sizes in bytes. */
export const ELEMENT_TYPES: Readonly<Record<number, { name: string; bytes: number; field: string }>> = {
  1: { name: 'float32', bytes: 4, field: 'float_data' },
  2: { name: 'uint8', bytes: 1, field: 'int32_data' },
  3: { name: 'int8', bytes: 1, field: 'int32_data' },
  4: { name: 'uint16', bytes: 2, field: 'int32_data' },
  5: { name: 'int16', bytes: 2, field: 'int32_data' },
  6: { name: 'int32', bytes: 4, field: 'int32_data' },
  7: { name: 'int64', bytes: 8, field: 'int64_data' },
  9: { name: 'bool', bytes: 1, field: 'int32_data' },
  10: { name: 'float16', bytes: 2, field: 'int32_data' },
  11: { name: 'float64', bytes: 8, field: 'double_data' },
  12: { name: 'uint32', bytes: 4, field: 'uint64_data' },
  13: { name: 'uint64', bytes: 8, field: 'uint64_data' },
};

/** The decoded protobuf objects (field names as in onnx.proto). */
export interface TensorProtoObject {
  name?: string; dims?: string[]; data_type?: number; raw_data?: Uint8Array;
  float_data?: number[]; int32_data?: number[]; int64_data?: string[]; double_data?: number[]; uint64_data?: string[];
  string_data?: Uint8Array[]; data_location?: number; external_data?: unknown[];
}
export interface AttributeObject {
  name: string; type?: number; f?: number; i?: string; s?: Uint8Array; t?: TensorProtoObject;
  floats?: number[]; ints?: string[]; strings?: Uint8Array[]; g?: unknown; graphs?: unknown[]; tensors?: TensorProtoObject[];
}
export interface NodeObject {
  name?: string; op_type?: string; domain?: string; input?: string[]; output?: string[]; attribute?: AttributeObject[];
}
interface ValueInfoObject {
  name?: string;
  type?: { tensor_type?: { elem_type?: number; shape?: { dim?: { dim_value?: string; dim_param?: string }[] } } };
}

export interface OnnxNode {
  /** The node's name, or `<op_type>_<index>` when the file leaves it empty. */
  readonly name: string;
  readonly opType: string;
  /** '' for the standard operator set (also spelled 'ai.onnx' in files). */
  readonly domain: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly proto: NodeObject;
}

export interface OnnxTensor {
  readonly name: string;
  readonly dataType: number;
  readonly dims: readonly number[];
  readonly proto: TensorProtoObject;
}

export interface OnnxValueInfo {
  readonly name: string;
  readonly elemType: number;
  /** Sizes, or the symbolic name of a free dimension (`batch_size`); null when the file says nothing. */
  readonly shape: readonly (number | string)[] | null;
}

export interface OnnxModel {
  readonly file: string;
  readonly irVersion: number;
  /** Operator-set versions by domain ('' is the standard set). */
  readonly opsets: ReadonlyMap<string, number>;
  readonly nodes: readonly OnnxNode[];
  readonly initializers: ReadonlyMap<string, OnnxTensor>;
  /** Graph inputs that are not initializers: what the model is fed. */
  readonly inputs: readonly OnnxValueInfo[];
  readonly outputs: readonly OnnxValueInfo[];
  /** Which node produces each tensor. */
  readonly producers: ReadonlyMap<string, OnnxNode>;
}

export const normalizeDomain = (d: string | undefined) => (!d || d === 'ai.onnx' ? '' : d);

/** Largest tensor graft accepts from a file: 2^31 - 1 bytes, the most one protobuf field can hold. */
const MAX_TENSOR_BYTES = 2 ** 31 - 1;

/** Decodes and checks an ONNX file's bytes. Throws OnnxImportError, never anything from the decoder. */
export function parseOnnxModel(bytes: Uint8Array, file: string): OnnxModel {
  let model: { ir_version?: string; opset_import?: { domain?: string; version?: string }[]; graph?: Record<string, unknown> };
  try {
    model = ModelProto.toObject(ModelProto.decode(bytes), { longs: String }) as typeof model;
  } catch (e) {
    throw onnxError(file, `not a valid ONNX protobuf, the file is truncated or corrupt (${(e as Error).message}; ${bytes.length} bytes read)`);
  }
  const graph = model.graph as { node?: NodeObject[]; initializer?: TensorProtoObject[]; input?: ValueInfoObject[]; output?: ValueInfoObject[] } | undefined;
  if (!graph || !graph.node?.length) throw onnxError(file, `the file holds no ONNX graph with nodes (${bytes.length} bytes); is it an ONNX model?`);
  const opsets = new Map<string, number>();
  for (const o of model.opset_import ?? []) opsets.set(normalizeDomain(o.domain), Number(o.version));
  if (!opsets.has('')) throw onnxError(file, 'it imports no version of the standard ONNX operator set (opset_import has no "" domain)');

  const initializers = new Map<string, OnnxTensor>();
  for (const t of graph.initializer ?? []) {
    const checked = checkTensor(t, file, `initializer "${t.name ?? ''}"`);
    initializers.set(checked.name, checked);
  }
  const nodes = (graph.node ?? []).map((n, i): OnnxNode => {
    const opType = n.op_type ?? '';
    if (!opType) throw onnxError(file, `node ${i} ("${n.name ?? ''}") has no op_type`);
    const name = n.name || `${opType}_${i}`;
    for (const a of n.attribute ?? []) {
      if (a.t) checkTensor(a.t, file, `attribute "${a.name}" of node "${name}" (${opType})`);
      for (const t of a.tensors ?? []) checkTensor(t, file, `attribute "${a.name}" of node "${name}" (${opType})`);
    }
    return { name, opType, domain: normalizeDomain(n.domain), inputs: n.input ?? [], outputs: n.output ?? [], proto: n };
  });
  const valueInfo = (v: ValueInfoObject): OnnxValueInfo => {
    const dims = v.type?.tensor_type?.shape?.dim;
    return {
      name: v.name ?? '',
      elemType: v.type?.tensor_type?.elem_type ?? 0,
      shape: dims ? dims.map((d) => (d.dim_value !== undefined ? Number(d.dim_value) : d.dim_param ?? '?')) : null,
    };
  };
  const inputs = (graph.input ?? []).filter((v) => !initializers.has(v.name ?? '')).map(valueInfo);
  const outputs = (graph.output ?? []).map(valueInfo);
  const producers = checkGraph(nodes, initializers, inputs, outputs, file);
  return { file, irVersion: Number(model.ir_version ?? 0), opsets, nodes, initializers, inputs, outputs, producers };
}

/** Sizes checked against the bytes actually present; nothing is allocated from what dims claim. */
function checkTensor(t: TensorProtoObject, file: string, what: string): OnnxTensor {
  const dims = (t.dims ?? []).map((d) => Number(d));
  const bad = dims.find((d) => !Number.isSafeInteger(d) || d < 0);
  if (bad !== undefined) throw onnxError(file, `${what} has an invalid dimension ${bad} in dims [${t.dims}]`);
  const type = ELEMENT_TYPES[t.data_type ?? 0];
  if (t.data_location === 1 || t.external_data?.length) {
    throw onnxError(file, `${what} keeps its data in an external file; graft reads self-contained ONNX files (save the model without external data)`);
  }
  if (!type) throw onnxError(file, `${what} has element type ${t.data_type}, which graft does not read`);
  const count = dims.reduce((a, b) => a * b, 1);
  const claimed = count * type.bytes;
  const raw = t.raw_data?.length ?? 0;
  const typed = ((t as Record<string, unknown>)[type.field] as unknown[] | undefined)?.length ?? 0;
  const held = raw ? raw : typed * type.bytes;
  if (claimed > MAX_TENSOR_BYTES || held !== claimed) {
    throw onnxError(file, `${what} claims dims [${dims}] (${count} ${type.name} values, ${claimed} bytes) but holds ${held} bytes`);
  }
  return { name: t.name ?? '', dataType: t.data_type!, dims, proto: t };
}

/**
 * Every tensor produced once, every input produced by something, no cycles. Returns the producer
 * of each tensor. The walk is iterative: a hostile file may chain a million nodes.
 */
function checkGraph(
  nodes: readonly OnnxNode[], initializers: ReadonlyMap<string, OnnxTensor>, inputs: readonly OnnxValueInfo[],
  outputs: readonly OnnxValueInfo[], file: string,
): Map<string, OnnxNode> {
  const producers = new Map<string, OnnxNode>();
  const given = new Set([...initializers.keys(), ...inputs.map((i) => i.name)]);
  for (const n of nodes) {
    for (const o of n.outputs) {
      if (!o) continue;
      const other = producers.get(o);
      if (other) throw onnxError(file, `tensor "${o}" is produced twice, by node "${other.name}" (${other.opType}) and node "${n.name}" (${n.opType})`);
      if (given.has(o)) throw onnxError(file, `node "${n.name}" (${n.opType}) writes "${o}", which is already a graph input or initializer`);
      producers.set(o, n);
    }
  }
  for (const n of nodes) {
    for (const i of n.inputs) {
      if (i && !producers.has(i) && !given.has(i)) {
        throw onnxError(file, `node "${n.name}" (${n.opType}) reads "${i}", which no node, initializer or graph input produces`);
      }
    }
  }
  for (const o of outputs) {
    if (!producers.has(o.name) && !given.has(o.name)) throw onnxError(file, `graph output "${o.name}" is produced by no node`);
  }
  const state = new Map<OnnxNode, 'open' | 'done'>();
  for (const root of nodes) {
    if (state.has(root)) continue;
    const stack: [OnnxNode, number][] = [[root, 0]];
    state.set(root, 'open');
    while (stack.length) {
      const top = stack[stack.length - 1];
      const [n, next] = top;
      if (next === n.inputs.length) {
        state.set(n, 'done');
        stack.pop();
        continue;
      }
      top[1]++;
      const dep = producers.get(n.inputs[next]);
      if (!dep) continue;
      const s = state.get(dep);
      if (s === 'open') {
        const path = stack.slice(stack.findIndex(([m]) => m === dep)).map(([m]) => `"${m.name}"`);
        throw onnxError(file, `the graph has a cycle through node "${dep.name}" (${dep.opType}): ${[...path, `"${dep.name}"`].join(' -> ')}`);
      }
      if (!s) {
        state.set(dep, 'open');
        stack.push([dep, 0]);
      }
    }
  }
  return producers;
}

/** An attribute of a node, or undefined. */
export function attr(node: OnnxNode, name: string): AttributeObject | undefined {
  return node.proto.attribute?.find((a) => a.name === name);
}

export const attrInt = (node: OnnxNode, name: string, fallback: number): number => {
  const a = attr(node, name);
  return a?.i !== undefined ? Number(a.i) : fallback;
};
export const attrInts = (node: OnnxNode, name: string): number[] | undefined => attr(node, name)?.ints?.map(Number);
export const attrFloat = (node: OnnxNode, name: string, fallback: number): number => attr(node, name)?.f ?? fallback;
export const attrString = (node: OnnxNode, name: string, fallback: string): string => {
  const s = attr(node, name)?.s;
  return s ? new TextDecoder().decode(s) : fallback;
};

export type HostArray = Float32Array | Float64Array | Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array | BigInt64Array;

/** A checked tensor's values as a typed array of its own type (bool as uint8, float16 widened). */
export function tensorValues(t: OnnxTensor): HostArray {
  const p = t.proto;
  const raw = p.raw_data;
  const n = t.dims.reduce((a, b) => a * b, 1);
  if (raw && raw.length) {
    // A copy: the decoder's bytes are a view into the file, maybe unaligned for wider types.
    const copy = new Uint8Array(raw).buffer;
    switch (t.dataType) {
      case 1: return new Float32Array(copy);
      case 2: case 9: return new Uint8Array(copy);
      case 3: return new Int8Array(copy);
      case 4: return new Uint16Array(copy);
      case 5: return new Int16Array(copy);
      case 6: return new Int32Array(copy);
      case 7: return new BigInt64Array(copy);
      case 10: return Float32Array.from(new Uint16Array(copy), halfToFloat);
      case 11: return new Float64Array(copy);
    }
  } else {
    switch (t.dataType) {
      case 1: return Float32Array.from(p.float_data ?? []);
      case 2: case 9: return Uint8Array.from(p.int32_data ?? []);
      case 3: return Int8Array.from(p.int32_data ?? []);
      case 4: return Uint16Array.from(p.int32_data ?? []);
      case 5: return Int16Array.from(p.int32_data ?? []);
      case 6: return Int32Array.from(p.int32_data ?? []);
      case 7: return BigInt64Array.from(p.int64_data ?? [], (v) => BigInt(v));
      case 10: return Float32Array.from(p.int32_data ?? [], halfToFloat);
      case 11: return Float64Array.from(p.double_data ?? []);
    }
  }
  throw new TypeError(`Tensor "${t.name}" of element type ${ELEMENT_TYPES[t.dataType]?.name ?? t.dataType} (${n} values) cannot be read as numbers`);
}
