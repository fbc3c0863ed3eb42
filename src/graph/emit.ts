import type { DType, TensorData } from './dtype.ts';
import { AttrType, DataType } from './onnx-schema.ts';
import { encodeModel } from './onnx-encode.ts';

export const OPSET = 17;
const IR_VERSION = 8;

/** An ONNX attribute value; the wrapper says which ONNX type it is, since JS numbers don't. */
export type OnnxAttr = { int: number } | { float: number } | { ints: readonly number[] } | { floats: readonly number[] } | { string: string };
export const int = (v: number): OnnxAttr => ({ int: v });
export const ints = (v: readonly number[]): OnnxAttr => ({ ints: v });
export const float = (v: number): OnnxAttr => ({ float: v });
export const floats = (v: readonly number[]): OnnxAttr => ({ floats: v });

/** What an op's `emit` sees: a way to append nodes and constants to the ONNX graph being built. */
export interface EmitContext {
  /** Appends a node and returns the name of its (first) output. */
  node(opType: string, inputs: readonly string[], attrs?: Record<string, OnnxAttr>): string;
  /** A node with several outputs; returns their names. */
  nodeMulti(opType: string, inputs: readonly string[], outputs: number, attrs?: Record<string, OnnxAttr>): string[];
  /**
   * A node of ONNX Runtime's own operator set (com.microsoft), for kernels the standard set lacks
   * (a batched matrix product with a transposed operand). Only graphs graft runs itself use these;
   * exported models stay standard.
   */
  runtimeNode(opType: string, inputs: readonly string[], attrs?: Record<string, OnnxAttr>): string;
  /** An initializer holding the values (int64 for shapes and axes, float32 otherwise). */
  constant(values: TensorData | readonly number[], shape: readonly number[], dtype?: DType): string;
  /** int64 shape/axes vector, shared between nodes that use the same one. */
  int64s(values: readonly number[]): string;
  /**
   * True when the graph must run at any batch size (an exported model), though it was traced at
   * one: shape vectors then leave the batch dimension to the input instead of baking it in.
   */
  readonly symbolicBatch?: boolean;
  /** True for an exported model: standard operators only, none of ONNX Runtime's own. */
  readonly standardOps?: boolean;
  /**
   * ONNX Runtime's CPU channel block for its blocked (NCHWc) convolution kernels, 8 or 16; 0 where
   * the graph must stay standard (exports) or the runtime has no such kernels.
   */
  readonly blockSize?: number;
  /** A node of ONNX Runtime's blocked-layout operator set (com.microsoft.nchwc); see ops/conv-blocked.ts. */
  blockedNode(opType: string, inputs: readonly string[], attrs?: Record<string, OnnxAttr>): string;
  /**
   * Emits nodes once per graph for a key naming what they compute (their op and input names), and
   * returns the same output names to every later caller: for values that several ops' emissions
   * need, such as an activation in the blocked layout or batch norm's batch statistics.
   */
  once(key: string, emit: () => string[]): string[];
}

function toBytes(data: TensorData): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

function attrProto(name: string, a: OnnxAttr): object {
  if ('int' in a) return { name, type: AttrType.INT, i: a.int };
  if ('float' in a) return { name, type: AttrType.FLOAT, f: a.float };
  if ('ints' in a) return { name, type: AttrType.INTS, ints: [...a.ints] };
  if ('floats' in a) return { name, type: AttrType.FLOATS, floats: [...a.floats] };
  return { name, type: AttrType.STRING, s: new TextEncoder().encode(a.string) };
}

export function dataTypeOf(dtype: DType): number {
  return dtype === 'int64' ? DataType.INT64 : DataType.FLOAT;
}

export interface ValueInfo {
  name: string; dtype: DType; shape: readonly (number | string)[] | null;
  /** An ONNX element type graft's tensors do not have (uint8 images), overriding `dtype`. */
  elemType?: number;
}

/** Collects nodes, initializers, inputs and outputs, then serializes them as an ONNX ModelProto. */
export class GraphBuilder implements EmitContext {
  private readonly nodes: object[] = [];
  private readonly initializers: object[] = [];
  private readonly inputs: ValueInfo[] = [];
  private readonly outputs: ValueInfo[] = [];
  private readonly int64Cache = new Map<string, string>();
  private readonly emittedOnce = new Map<string, string[]>();
  /** Operator sets by domain: the standard one, plus any that inlined nodes need (com.microsoft). */
  private readonly opsets = new Map<string, number>([['', OPSET]]);
  private counter = 0;
  /** Prefix for node names: the module path of the op being emitted. */
  scope = '';
  symbolicBatch = false;
  standardOps = false;
  blockSize = 0;

  fresh(hint: string): string {
    return `${hint}_${this.counter++}`;
  }

  node(opType: string, inputs: readonly string[], attrs: Record<string, OnnxAttr> = {}): string {
    return this.nodeMulti(opType, inputs, 1, attrs)[0];
  }

  nodeMulti(opType: string, inputs: readonly string[], outputs: number, attrs: Record<string, OnnxAttr> = {}): string[] {
    return this.push('', opType, inputs, outputs, attrs);
  }

  runtimeNode(opType: string, inputs: readonly string[], attrs: Record<string, OnnxAttr> = {}): string {
    this.opsets.set('com.microsoft', 1);
    return this.push('com.microsoft', opType, inputs, 1, attrs)[0];
  }

  blockedNode(opType: string, inputs: readonly string[], attrs: Record<string, OnnxAttr> = {}): string {
    this.opsets.set('com.microsoft.nchwc', 1);
    return this.push('com.microsoft.nchwc', opType, inputs, 1, attrs)[0];
  }

  once(key: string, emit: () => string[]): string[] {
    let names = this.emittedOnce.get(key);
    if (!names) this.emittedOnce.set(key, (names = emit()));
    return names;
  }

  private push(domain: string, opType: string, inputs: readonly string[], outputs: number, attrs: Record<string, OnnxAttr>): string[] {
    const base = this.fresh(this.scope ? `${this.scope}/${opType}` : opType);
    const names = Array.from({ length: outputs }, (_, i) => (i === 0 ? base : `${base}:${i}`));
    this.nodes.push({
      name: base, op_type: opType, ...(domain ? { domain } : {}), input: [...inputs], output: names,
      attribute: Object.entries(attrs).map(([k, v]) => attrProto(k, v)),
    });
    return names;
  }

  constant(values: TensorData | readonly number[], shape: readonly number[], dtype: DType = 'float32'): string {
    const data: TensorData = ArrayBuffer.isView(values)
      ? (values as TensorData)
      : dtype === 'int64' ? BigInt64Array.from(values as number[], (v) => BigInt(v)) : Float32Array.from(values as number[]);
    const name = this.fresh('const');
    this.addInitializer(name, data, shape);
    return name;
  }

  int64s(values: readonly number[]): string {
    const key = values.join(',');
    let name = this.int64Cache.get(key);
    if (!name) {
      name = this.constant(values, [values.length], 'int64');
      this.int64Cache.set(key, name);
    }
    return name;
  }

  addInitializer(name: string, data: TensorData, shape: readonly number[]): void {
    const dtype: DType = data instanceof BigInt64Array ? 'int64' : 'float32';
    this.initializers.push({ name, dims: [...shape], data_type: dataTypeOf(dtype), raw_data: toBytes(data) });
  }

  /**
   * Adds nodes and initializers made elsewhere (an imported ONNX model's), already named so they
   * cannot clash with this graph's, and the operator sets their nodes need.
   */
  inline(part: { nodes: readonly object[]; initializers: readonly object[]; opsets: ReadonlyMap<string, number> }): void {
    for (const [domain, version] of part.opsets) {
      const have = this.opsets.get(domain);
      if (have !== undefined && have !== version) {
        throw new Error(`Cannot combine operator set ${domain || 'ai.onnx'} version ${version} with version ${have} in one graph`);
      }
      this.opsets.set(domain, version);
    }
    this.nodes.push(...part.nodes);
    this.initializers.push(...part.initializers);
  }

  addInput(info: ValueInfo): void { this.inputs.push(info); }
  addOutput(info: ValueInfo): void { this.outputs.push(info); }

  /** Renames a value by routing it through Identity, so outputs can carry stable names. */
  alias(from: string, to: string): void {
    this.nodes.push({ name: this.fresh('alias'), op_type: 'Identity', input: [from], output: [to], attribute: [] });
  }

  serialize(opts: { name?: string; metadata?: Record<string, string>; docString?: string } = {}): Uint8Array {
    const valueInfo = (v: ValueInfo) => ({
      name: v.name,
      type: {
        tensor_type: {
          elem_type: v.elemType ?? dataTypeOf(v.dtype),
          ...(v.shape ? { shape: { dim: v.shape.map((d) => (typeof d === 'number' ? { dim_value: d } : { dim_param: d })) } } : {}),
        },
      },
    });
    return encodeModel({
      ir_version: IR_VERSION,
      opset_import: [...this.opsets].map(([domain, version]) => ({ domain, version })),
      producer_name: 'graft',
      producer_version: '0.1.0',
      doc_string: opts.docString ?? '',
      metadata_props: Object.entries(opts.metadata ?? {}).map(([key, value]) => ({ key, value })),
      graph: {
        name: opts.name ?? 'graft',
        node: this.nodes,
        initializer: this.initializers,
        input: this.inputs.map(valueInfo),
        output: this.outputs.map(valueInfo),
      },
    });
  }
}
