import { Module } from '../nn/module.ts';
import { Tensor, constant } from '../graph/tensor.ts';
import { withScope } from '../graph/scope.ts';
import * as F from '../nn/functional.ts';
import { Conv2d, Linear, BatchNorm2d } from '../nn/index.ts';
import { attr, attrFloat, attrInt, attrInts, attrString, onnxError, tensorValues, type HostArray, type OnnxNode, type OnnxTensor } from '../formats/onnx-model.ts';
import type { OnnxCut } from '../formats/onnx-cut.ts';
import type { Preprocessing } from './catalog.ts';
import { OnnxBackbone } from './onnx-backbone.ts';

/**
 * An imported ONNX backbone rebuilt from graft layers with float parameters, so it can be
 * fine-tuned. Quantized ops become their float originals: QLinearConv a Conv2d with
 * w = (w_q - w_zp) * w_scale (per output channel) and bias = b_q * x_scale * w_scale, followed by
 * a clamp to what its output quantization can represent, [(qmin - y_zp) * y_scale,
 * (qmax - y_zp) * y_scale]: that is where an int8 model keeps its ReLU6, having no activation
 * node. QLinearAdd, QLinearMatMul and QLinearGlobalAveragePool likewise; QuantizeLinear is that
 * same clamp (saturation), DequantizeLinear the identity. Shape arithmetic (the Shape, Gather,
 * Unsqueeze, Concat chain of a flatten) is computed on the host, since graft shapes are static.
 * The result differs from the int8 model by rounding error only.
 */
export class DequantizedBackbone extends Module {
  readonly source: string;
  preprocessing: Preprocessing;
  readonly #cut: OnnxCut;
  /** Constants: the file's initializers and what folds from them (dequantized weights, shape arithmetic). */
  readonly #statics = new Map<string, HostValue>();
  /** Nodes that compute on the image, in order, with the property naming their layer (if any). */
  readonly #steps: { node: OnnxNode; layer: string | null }[] = [];

  constructor(cut: OnnxCut, preprocessing: Preprocessing) {
    super();
    this.#cut = cut;
    this.source = `ONNX model "${cut.model.file}" cut at "${cut.tensor}"`;
    this.preprocessing = preprocessing;
    for (const t of cut.initializers) this.#statics.set(t.name, hostOf(t));
    const taken = new Set<string>();
    for (let o: object | null = this; o; o = Object.getPrototypeOf(o)) for (const k of Object.getOwnPropertyNames(o)) taken.add(k);
    for (const node of cut.nodes) {
      const inputs = node.inputs.map((i) => (i ? this.#statics.get(i) : undefined));
      if (node.opType !== 'Shape' && node.inputs.every((name, k) => !name || inputs[k] !== undefined)) {
        const folded = foldOnHost(node, inputs, cut.model.file);
        if (folded) {
          folded.forEach((v, k) => this.#statics.set(node.outputs[k], v));
          continue;
        }
      }
      const layer = makeLayer(node, (i) => (node.inputs[i] ? this.#statics.get(node.inputs[i]) : undefined), cut.model.file);
      let key: string | null = null;
      if (layer) {
        key = propertyName(node, taken);
        (this as unknown as Record<string, Module>)[key] = layer;
      }
      this.#steps.push({ node, layer: key });
    }
  }

  features(x: Tensor): Tensor {
    const values = new Map<string, Value>(this.#statics);
    values.set(this.#cut.input.name, x);
    for (const { node, layer } of this.#steps) {
      const inputs = node.inputs.map((i) => (i ? values.get(i) : undefined));
      const module = layer ? (this as unknown as Record<string, Module>)[layer] : null;
      const run = () => runNode(node, inputs, module, this.#cut.model.file, this.#cut.model.opsets.get('')!);
      const outputs = layer ? withScope(layer, run) : run();
      outputs.forEach((v, k) => { if (node.outputs[k]) values.set(node.outputs[k], v); });
    }
    const out = values.get(this.#cut.output);
    if (!(out instanceof Tensor)) throw new Error(`Internal: ${this.source} computed no tensor for "${this.#cut.output}"`);
    return out;
  }

  forward(x: Tensor): Tensor {
    return this.features(x);
  }
}

/** Rebuilds an imported backbone from graft layers with trainable float parameters. */
export function dequantize(backbone: OnnxBackbone): DequantizedBackbone {
  return new DequantizedBackbone(backbone.imported.cut, backbone.preprocessing);
}

/** A value known while building the graph: a constant, or the result of shape arithmetic. */
interface HostValue { readonly dataType: number; readonly dims: readonly number[]; readonly data: HostArray }
type Value = Tensor | HostValue;

const FLOAT = 1;
const INT64 = 7;

function hostOf(t: OnnxTensor): HostValue {
  return { dataType: t.dataType, dims: t.dims, data: tensorValues(t) };
}

const numbers = (v: HostValue): number[] => Array.from(v.data as ArrayLike<number | bigint>, Number);
const int64 = (values: readonly number[], dims: readonly number[] = [values.length]): HostValue =>
  ({ dataType: INT64, dims, data: BigInt64Array.from(values, (v) => BigInt(v)) });
const floats = (values: ArrayLike<number>, dims: readonly number[]): HostValue => ({ dataType: FLOAT, dims, data: Float32Array.from(values) });

function asTensor(v: Value): Tensor {
  if (v instanceof Tensor) return v;
  if (v.dataType === INT64) return constant(v.data as BigInt64Array, v.dims);
  return constant(Float32Array.from(numbers(v)), v.dims);
}

/** The quantized integer range of a zero point's type (uint8 when absent, as ONNX defaults). */
function quantRange(zeroPoint: HostValue | undefined): [number, number] {
  switch (zeroPoint?.dataType ?? 2) {
    case 3: return [-128, 127];
    case 4: return [0, 65535];
    case 5: return [-32768, 32767];
    default: return [0, 255];
  }
}

/** (q - zp) * scale, with per-axis scale and zero point along `axis` when they are vectors. */
function dequantizeHost(q: HostValue, scale: HostValue, zeroPoint: HostValue | undefined, axis: number): HostValue {
  const s = numbers(scale);
  const z = zeroPoint ? numbers(zeroPoint) : [0];
  const values = numbers(q);
  if (s.length === 1) return floats(values.map((v) => (v - (z[0] ?? 0)) * s[0]), q.dims);
  const ax = axis < 0 ? axis + q.dims.length : axis;
  const inner = q.dims.slice(ax + 1).reduce((a, b) => a * b, 1);
  const size = q.dims[ax];
  return floats(values.map((v, i) => {
    const c = Math.floor(i / inner) % size;
    return (v - (z.length === 1 ? z[0] : z[c])) * s[c];
  }), q.dims);
}

function scalarOf(v: HostValue | undefined, what: string, node: OnnxNode, file: string): number {
  if (!v) throw onnxError(file, `node "${node.name}" (${node.opType}) has no constant ${what}; dequantize() needs it stored in the file`);
  const n = numbers(v);
  if (n.length !== 1) throw onnxError(file, `node "${node.name}" (${node.opType}) has a per-channel ${what}; dequantize() supports per-tensor ${what}s for activations`);
  return n[0];
}

/** The clamp that stands in for a quantized output's saturation. */
function saturate(x: Tensor, scale: HostValue | undefined, zeroPoint: HostValue | undefined, node: OnnxNode, file: string): Tensor {
  const s = scalarOf(scale, 'output scale', node, file);
  const z = zeroPoint ? scalarOf(zeroPoint, 'output zero point', node, file) : 0;
  const [qmin, qmax] = quantRange(zeroPoint);
  return F.clamp(x, (qmin - z) * s, (qmax - z) * s);
}

/** A property name for a node's layer: its name made an identifier, unique among the module's own. */
function propertyName(node: OnnxNode, taken: Set<string>): string {
  let base = node.name.replace(/[^A-Za-z0-9_]+/g, '_').replace(/^_+|_+$/g, '') || node.opType;
  if (/^\d/.test(base)) base = `${node.opType}_${base}`;
  let name = base;
  for (let i = 1; taken.has(name); i++) name = `${base}_${i}`;
  taken.add(name);
  return name;
}

/** The layer holding a node's weights as Parameters, or null for ops without weights. */
function makeLayer(node: OnnxNode, input: (i: number) => HostValue | undefined, file: string): Module | null {
  const needs = (i: number, what: string): HostValue => {
    const v = input(i);
    if (!v) throw onnxError(file, `node "${node.name}" (${node.opType}) computes its ${what} at run time; dequantize() needs it stored in the file`);
    return v;
  };
  switch (node.opType) {
    case 'Conv':
      return convLayer(node, needs(1, 'weight'), input(2) ? numbers(input(2)!) : null, file);
    case 'QLinearConv': {
      const w = needs(3, 'weight');
      const wScale = numbers(needs(4, 'weight scale'));
      const xScale = scalarOf(input(1), 'input scale', node, file);
      const weight = dequantizeHost(w, needs(4, 'weight scale'), input(5), 0);
      const bias = input(8) ? numbers(input(8)!).map((b, c) => b * xScale * (wScale.length === 1 ? wScale[0] : wScale[c])) : null;
      return convLayer(node, weight, bias, file);
    }
    case 'Gemm': {
      const b = input(1);
      if (!b) return null;
      const alpha = attrFloat(node, 'alpha', 1);
      const beta = attrFloat(node, 'beta', 1);
      const [k, n] = attrInt(node, 'transB', 0) ? [b.dims[1], b.dims[0]] : b.dims;
      const c = input(2);
      const cValues = c ? numbers(c) : null;
      // A bias PyTorch's Linear can hold: [N], [1, N] or a scalar; a full [M, N] C is added in the graph.
      const vectorBias = c !== undefined && (c.dims.length <= 1 || c.dims[0] === 1) && (cValues!.length === n || cValues!.length === 1);
      const layer = new Linear(k, n, { bias: Boolean(vectorBias) });
      layer.weight.assign(transposed2d(b, !attrInt(node, 'transB', 0), alpha));
      if (vectorBias) layer.bias!.assign(Float32Array.from({ length: n }, (_, j) => beta * cValues![cValues!.length === 1 ? 0 : j]));
      return layer;
    }
    case 'MatMul':
    case 'QLinearMatMul': {
      const q = node.opType === 'QLinearMatMul';
      const raw = input(q ? 3 : 1);
      if (!raw || raw.dims.length !== 2) return null;
      const b = q ? dequantizeHost(raw, needs(4, 'weight scale'), input(5), 1) : raw;
      const layer = new Linear(b.dims[0], b.dims[1], { bias: false });
      layer.weight.assign(transposed2d(b, true, 1));
      return layer;
    }
    case 'BatchNormalization': {
      const c = needs(1, 'scale').data.length;
      const layer = new BatchNorm2d(c, { eps: attrFloat(node, 'epsilon', 1e-5), momentum: 1 - attrFloat(node, 'momentum', 0.9) });
      layer.weight.assign(Float32Array.from(numbers(needs(1, 'scale'))));
      layer.bias.assign(Float32Array.from(numbers(needs(2, 'bias'))));
      layer.running_mean.assign(Float32Array.from(numbers(needs(3, 'mean'))));
      layer.running_var.assign(Float32Array.from(numbers(needs(4, 'variance'))));
      return layer;
    }
    default:
      return null;
  }
}

/** A 2-D matrix [r, c] as [c, r] (or as it is), times alpha: ONNX's [K, N] to PyTorch's [out, in]. */
function transposed2d(m: HostValue, transpose: boolean, alpha: number): Float32Array {
  const [r, c] = m.dims;
  const v = numbers(m);
  const out = new Float32Array(r * c);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) out[transpose ? j * r + i : i * c + j] = alpha * v[i * c + j];
  return out;
}

function convLayer(node: OnnxNode, weight: HostValue, bias: number[] | null, file: string): Conv2d {
  if (weight.dims.length !== 4) throw onnxError(file, `node "${node.name}" (${node.opType}) is a ${weight.dims.length - 2}-D convolution; graft has 2-D convolutions`);
  const [o, ig, kh, kw] = weight.dims;
  const groups = attrInt(node, 'group', 1);
  const layer = new Conv2d(ig * groups, o, [kh, kw], { groups, bias: bias !== null, stride: pairOf(attrInts(node, 'strides'), 1), dilation: pairOf(attrInts(node, 'dilations'), 1) });
  layer.weight.assign(Float32Array.from(numbers(weight)));
  if (bias) layer.bias!.assign(Float32Array.from(bias));
  return layer;
}

const pairOf = (v: number[] | undefined, fallback: number): [number, number] => (v && v.length === 2 ? [v[0], v[1]] : [fallback, fallback]);

/**
 * ONNX pads [top, left, bottom, right] for a window op, resolving auto_pad against the input size.
 */
function windowPads(node: OnnxNode, size: readonly number[], kernel: readonly number[], stride: readonly number[], dilation: readonly number[]): number[] {
  const mode = attrString(node, 'auto_pad', 'NOTSET');
  if (mode === 'VALID') return [0, 0, 0, 0];
  if (mode === 'SAME_UPPER' || mode === 'SAME_LOWER') {
    const total = [0, 1].map((i) => Math.max((Math.ceil(size[i] / stride[i]) - 1) * stride[i] + (kernel[i] - 1) * dilation[i] + 1 - size[i], 0));
    const small = total.map((t) => Math.floor(t / 2));
    const big = total.map((t, i) => t - small[i]);
    return mode === 'SAME_UPPER' ? [small[0], small[1], big[0], big[1]] : [big[0], big[1], small[0], small[1]];
  }
  return attrInts(node, 'pads') ?? [0, 0, 0, 0];
}

/** Folds a node whose inputs are all known on the host; null when it must run in the graph. */
function foldOnHost(node: OnnxNode, inputs: (HostValue | undefined)[], file: string): HostValue[] | null {
  const [a, b] = inputs;
  switch (node.opType) {
    case 'Identity': return [a!];
    case 'Constant': return [constantOf(node, file)];
    case 'DequantizeLinear': return [dequantizeHost(a!, b!, inputs[2], attrInt(node, 'axis', 1))];
    case 'Cast': {
      const to = attrInt(node, 'to', FLOAT);
      return [to === INT64 ? int64(numbers(a!).map(Math.trunc), a!.dims) : to === FLOAT ? floats(numbers(a!), a!.dims) : { ...a!, dataType: to }];
    }
    case 'Unsqueeze': case 'Squeeze': case 'Reshape': case 'Flatten': {
      const dims = reshapedDims(node, a!.dims, inputs[1], file);
      return [{ ...a!, dims }];
    }
    case 'Concat': {
      const parts = inputs.filter((v): v is HostValue => v !== undefined);
      if (parts.some((p) => p.dims.length !== 1)) return null;
      const all = parts.flatMap(numbers);
      return [parts[0].dataType === INT64 ? int64(all) : floats(all, [all.length])];
    }
    case 'Gather': {
      if (a!.dims.length !== 1 || attrInt(node, 'axis', 0) !== 0) return null;
      const values = numbers(a!);
      const idx = numbers(b!).map((i) => values[i < 0 ? i + values.length : i]);
      return [a!.dataType === INT64 ? int64(idx, b!.dims) : floats(idx, b!.dims)];
    }
    case 'Add': case 'Sub': case 'Mul': case 'Div': {
      const x = numbers(a!);
      const y = numbers(b!);
      if (x.length !== y.length && x.length !== 1 && y.length !== 1) return null;
      const n = Math.max(x.length, y.length);
      const f = { Add: (p: number, q: number) => p + q, Sub: (p: number, q: number) => p - q, Mul: (p: number, q: number) => p * q, Div: (p: number, q: number) => p / q }[node.opType]!;
      const isInt = a!.dataType === INT64;
      const out = Array.from({ length: n }, (_, i) => f(x[x.length === 1 ? 0 : i], y[y.length === 1 ? 0 : i]));
      const dims = x.length >= y.length ? a!.dims : b!.dims;
      return [isInt ? int64(out.map(Math.trunc), dims) : floats(out, dims)];
    }
    default:
      return null;
  }
}

function constantOf(node: OnnxNode, file: string): HostValue {
  const t = attr(node, 'value')?.t;
  if (t) return hostOf({ name: node.outputs[0], dataType: t.data_type ?? FLOAT, dims: (t.dims ?? []).map(Number), proto: t });
  const f = attr(node, 'value_float')?.f;
  if (f !== undefined) return floats([f], []);
  const fs = attr(node, 'value_floats')?.floats;
  if (fs) return floats(fs, [fs.length]);
  const i = attr(node, 'value_int')?.i;
  if (i !== undefined) return int64([Number(i)], []);
  const is = attr(node, 'value_ints')?.ints;
  if (is) return int64(is.map(Number));
  throw onnxError(file, `node "${node.name}" (Constant) holds a kind of value graft does not read`);
}

/** The output dims of Reshape, Flatten, Squeeze and Unsqueeze (attribute or input form). */
function reshapedDims(node: OnnxNode, dims: readonly number[], second: HostValue | undefined, file: string): number[] {
  const rank = dims.length;
  switch (node.opType) {
    case 'Flatten': {
      const axis = attrInt(node, 'axis', 1);
      const at = axis < 0 ? axis + rank : axis;
      return [dims.slice(0, at).reduce((p, q) => p * q, 1), dims.slice(at).reduce((p, q) => p * q, 1)];
    }
    case 'Reshape': {
      if (!second) throw onnxError(file, `node "${node.name}" (Reshape) computes its target shape from something graft cannot evaluate`);
      const target = numbers(second).map((d, i) => (d === 0 && !attrInt(node, 'allowzero', 0) ? dims[i] : d));
      const known = target.filter((d) => d !== -1).reduce((p, q) => p * q, 1);
      const total = dims.reduce((p, q) => p * q, 1);
      return target.map((d) => (d === -1 ? total / known : d));
    }
    case 'Squeeze': {
      const axes = (attrInts(node, 'axes') ?? (second ? numbers(second) : undefined))?.map((x) => (x < 0 ? x + rank : x));
      return dims.filter((d, i) => (axes ? !axes.includes(i) : d !== 1));
    }
    default: { // Unsqueeze
      const axes = attrInts(node, 'axes') ?? (second ? numbers(second) : []);
      const outRank = rank + axes.length;
      const norm = axes.map((x) => (x < 0 ? x + outRank : x));
      const out: number[] = [];
      let k = 0;
      for (let i = 0; i < outRank; i++) out.push(norm.includes(i) ? 1 : dims[k++]);
      return out;
    }
  }
}

const DEQUANTIZABLE = [
  'QuantizeLinear', 'DequantizeLinear', 'QLinearConv', 'QLinearAdd', 'QLinearMul', 'QLinearMatMul', 'QLinearGlobalAveragePool',
  'QLinearAveragePool', 'QLinearSigmoid', 'Conv', 'Gemm', 'MatMul', 'BatchNormalization', 'Relu', 'LeakyRelu', 'Clip', 'Sigmoid',
  'HardSigmoid', 'HardSwish', 'Add', 'Sub', 'Mul', 'Div', 'GlobalAveragePool', 'AveragePool', 'MaxPool', 'ReduceMean', 'ReduceSum',
  'Flatten', 'Reshape', 'Squeeze', 'Unsqueeze', 'Transpose', 'Concat', 'Pad', 'Softmax', 'Identity', 'Dropout', 'Shape', 'Gather',
  'Constant', 'Cast',
];

/** Runs one node on graft tensors (or on the host, once shape arithmetic has made its inputs constant). */
function runNode(node: OnnxNode, inputs: (Value | undefined)[], layer: Module | null, file: string, opset: number): Value[] {
  const present = node.inputs.map((name, k) => (name ? inputs[k] : null));
  if (present.every((v) => v === null || (v !== undefined && !(v instanceof Tensor))) && node.opType !== 'Shape') {
    const folded = foldOnHost(node, present.map((v) => v ?? undefined) as (HostValue | undefined)[], file);
    if (folded) return folded;
  }
  const x = inputs[0] as Value;
  const host = (i: number) => (inputs[i] instanceof Tensor ? undefined : (inputs[i] as HostValue | undefined));
  const t = (i: number) => asTensor(inputs[i]!);
  // A quantized operand: a computed one is already float on this path, a stored one is dequantized.
  const q = (i: number, scale: number, zeroPoint: number) => {
    const v = inputs[i]!;
    return v instanceof Tensor ? v : asTensor(dequantizeHost(v, host(scale) ?? fail(`has no constant scale for input ${i}`), host(zeroPoint), 1));
  };
  const fail = (why: string): never => { throw onnxError(file, `node "${node.name}" (${node.opType}) ${why}`); };
  switch (node.opType) {
    case 'Identity': case 'Dropout': case 'DequantizeLinear': return [x];
    case 'QuantizeLinear': return [saturate(t(0), host(1), host(2), node, file)];
    case 'QLinearConv': return [saturate(conv(node, q(0, 1, 2), layer as Conv2d), host(6), host(7), node, file)];
    case 'Conv': return [conv(node, t(0), layer as Conv2d)];
    case 'QLinearAdd': return [saturate(F.add(q(0, 1, 2), q(3, 4, 5)), host(6), host(7), node, file)];
    case 'QLinearMul': return [saturate(F.mul(q(0, 1, 2), q(3, 4, 5)), host(6), host(7), node, file)];
    case 'QLinearSigmoid': return [saturate(F.sigmoid(t(0)), host(3), host(4), node, file)];
    case 'QLinearGlobalAveragePool':
      if (attrInt(node, 'channels_last', 0)) fail('is channels-last; graft pools NCHW');
      return [saturate(F.adaptiveAvgPool2d(t(0), 1), host(3), host(4), node, file)];
    case 'QLinearAveragePool': return [saturate(pool(node, t(0), 'avg', file), host(3), host(4), node, file)];
    case 'QLinearMatMul': return [saturate(matmul(q(0, 1, 2), layer as Linear | null, () => q(3, 4, 5)), host(6), host(7), node, file)];
    case 'MatMul': return [matmul(t(0), layer as Linear | null, () => t(1))];
    case 'Gemm': {
      let a = t(0);
      if (attrInt(node, 'transA', 0)) a = F.transpose(a, 0, 1);
      const lin = layer as Linear | null;
      let y: Tensor;
      if (lin) y = lin.forward(a);
      else {
        const b = attrInt(node, 'transB', 0) ? F.transpose(t(1), 0, 1) : t(1);
        y = F.mul(F.matmul(a, b), attrFloat(node, 'alpha', 1));
      }
      if (node.inputs[2] && !lin?.bias) y = F.add(y, F.mul(t(2), attrFloat(node, 'beta', 1)));
      return [y];
    }
    case 'BatchNormalization': return [(layer as BatchNorm2d).forward(t(0))];
    case 'Relu': return [F.relu(t(0))];
    case 'LeakyRelu': {
      const alpha = attrFloat(node, 'alpha', 0.01);
      return [F.sub(F.relu(t(0)), F.mul(F.relu(F.neg(t(0))), alpha))];
    }
    case 'Sigmoid': return [F.sigmoid(t(0))];
    case 'HardSwish': return [F.hardswish(t(0))];
    case 'HardSigmoid': {
      const alpha = attrFloat(node, 'alpha', 0.2);
      const beta = attrFloat(node, 'beta', 0.5);
      if (Math.abs(alpha - 1 / 6) < 1e-6 && beta === 0.5) return [F.hardsigmoid(t(0))];
      return [F.clamp(F.add(F.mul(t(0), alpha), beta), 0, 1)];
    }
    case 'Clip': {
      const bound = (i: number, name: string, fallback: number) => {
        if (opset < 11) return attrFloat(node, name, fallback);
        if (!node.inputs[i]) return fallback;
        return scalarOf(host(i), name, node, file);
      };
      return [F.clamp(t(0), bound(1, 'min', -Infinity), bound(2, 'max', Infinity))];
    }
    case 'Add': return [F.add(t(0), t(1))];
    case 'Sub': return [F.sub(t(0), t(1))];
    case 'Mul': return [F.mul(t(0), t(1))];
    case 'Div': return [F.div(t(0), t(1))];
    case 'GlobalAveragePool': return [F.adaptiveAvgPool2d(t(0), 1)];
    case 'AveragePool': return [pool(node, t(0), 'avg', file)];
    case 'MaxPool':
      if (node.outputs[1]) fail('returns indices, which graft does not export');
      return [pool(node, t(0), 'max', file)];
    case 'ReduceMean': case 'ReduceSum': {
      const input = t(0);
      const axes = attrInts(node, 'axes') ?? (host(1) ? numbers(host(1)!) : undefined);
      const keep = attrInt(node, 'keepdims', 1) === 1;
      if (!axes && node.opType === 'ReduceSum' && attrInt(node, 'noop_with_empty_axes', 0)) return [input];
      return [node.opType === 'ReduceMean' ? F.mean(input, axes, keep) : F.sum(input, axes, keep)];
    }
    case 'Flatten': case 'Reshape': case 'Squeeze': case 'Unsqueeze':
      return [F.reshape(t(0), reshapedDims(node, t(0).shape, host(1), file))];
    case 'Transpose': {
      const input = t(0);
      return [F.permute(input, attrInts(node, 'perm') ?? input.shape.map((_, i) => input.ndim - 1 - i))];
    }
    case 'Concat': return [F.cat(node.inputs.map((_, i) => t(i)), attrInt(node, 'axis', 0))];
    case 'Pad': {
      const mode = attrString(node, 'mode', 'constant');
      const pads = opset < 11 ? attrInts(node, 'pads') : host(1) && numbers(host(1)!);
      const value = opset < 11 ? attrFloat(node, 'value', 0) : node.inputs[2] ? scalarOf(host(2), 'pad value', node, file) : 0;
      if (mode !== 'constant' || value !== 0 || !pads) fail('is not a zero padding with constant pads; graft pads with zeros');
      const input = t(0);
      const r = input.ndim;
      const before = pads!.slice(0, r);
      const after = pads!.slice(r);
      if ([...before, ...after].some((p) => p < 0)) fail('crops (negative pads)');
      const torchOrder: number[] = [];
      for (let i = r - 1; i >= 0; i--) torchOrder.push(before[i], after[i]);
      return [F.pad(input, torchOrder)];
    }
    case 'Softmax': {
      const input = t(0);
      const axis = attrInt(node, 'axis', opset < 13 ? 1 : -1);
      if (opset >= 13) return [F.softmax(input, axis)];
      const at = axis < 0 ? axis + input.ndim : axis;
      const flat = F.reshape(input, [input.shape.slice(0, at).reduce((p, q) => p * q, 1), -1]);
      return [F.reshape(F.softmax(flat, 1), [...input.shape])];
    }
    case 'Shape': {
      const dims = t(0).shape;
      const start = attrInt(node, 'start', 0);
      const end = attr(node, 'end') ? attrInt(node, 'end', dims.length) : dims.length;
      return [int64(dims.slice(start, end))];
    }
    case 'Gather': {
      const idx = host(1);
      if (!idx || idx.data.length !== 1 || idx.dims.length !== 0) fail('gathers from a computed tensor with more than one scalar index');
      const input = t(0);
      const axis = attrInt(node, 'axis', 0);
      const ax = axis < 0 ? axis + input.ndim : axis;
      const i = numbers(idx!)[0];
      const picked = F.narrow(input, ax, i < 0 ? i + input.shape[ax] : i, 1);
      return [F.reshape(picked, input.shape.filter((_, k) => k !== ax))];
    }
    case 'Cast':
      if (attrInt(node, 'to', FLOAT) !== FLOAT) fail('casts a computed tensor to a non-float type');
      return [x];
    default:
      return fail(`has no graft equivalent; dequantize() converts ${DEQUANTIZABLE.join(', ')}`);
  }
}

function conv(node: OnnxNode, x: Tensor, layer: Conv2d): Tensor {
  const [kh, kw] = layer.kernelSize;
  const pads = windowPads(node, x.shape.slice(2), [kh, kw], layer.stride, layer.dilation);
  let input = x;
  let padding: [number, number] = [pads[0], pads[1]];
  if (pads[0] !== pads[2] || pads[1] !== pads[3]) {
    input = F.pad(x, [pads[1], pads[3], pads[0], pads[2]]);
    padding = [0, 0];
  }
  return F.conv2d(input, layer.weight, layer.bias, { stride: layer.stride, padding, dilation: layer.dilation, groups: layer.groups });
}

function matmul(x: Tensor, layer: Linear | null, b: () => Tensor): Tensor {
  if (!layer) return F.matmul(x, b());
  return x.ndim === 2 ? layer.forward(x) : F.matmul(x, F.transpose(layer.weight, 0, 1));
}

function pool(node: OnnxNode, x: Tensor, kind: 'avg' | 'max', file: string): Tensor {
  const kernel = attrInts(node, 'kernel_shape') ?? [];
  if (kernel.length !== 2 || x.ndim !== 4) throw onnxError(file, `node "${node.name}" (${node.opType}) is not a 2-D pool over NCHW; graft pools 2-D`);
  const stride = pairOf(attrInts(node, 'strides'), 1);
  const dilation = pairOf(attrInts(node, 'dilations'), 1);
  const pads = windowPads(node, x.shape.slice(2), kernel, stride, dilation);
  if (pads[0] !== pads[2] || pads[1] !== pads[3]) {
    throw onnxError(file, `node "${node.name}" (${node.opType}) pads unevenly [${pads}]; graft pools with even padding`);
  }
  const o = { stride, padding: [pads[0], pads[1]] as [number, number], dilation, ceilMode: attrInt(node, 'ceil_mode', 0) === 1 };
  return kind === 'max'
    ? F.maxPool2d(x, [kernel[0], kernel[1]], o)
    : F.avgPool2d(x, [kernel[0], kernel[1]], { ...o, countIncludePad: attrInt(node, 'count_include_pad', 0) === 1 });
}
