/**
 * Bounds what an imported ONNX graph can allocate, before ONNX Runtime runs it. Most ops output
 * at most what they read, but ConstantOfShape, Expand, Tile, Resize and Range output a size read
 * from their inputs: a 200-byte file can ask for 16 GB. Their output sizes are worked out here
 * from the graph alone, by a forward pass that follows shapes (from the input shape through
 * convolutions, pools, matrix products and broadcasts) and the small integer tensors that
 * compute shapes (Shape, Gather, Concat, arithmetic), and each is checked against a limit. A size
 * that cannot be worked out is refused too: the file could otherwise ask for anything.
 */
import { ELEMENT_TYPES, onnxError, tensorValues, type AttributeObject, type NodeObject, type TensorProtoObject } from './onnx-model.ts';

/** Ops whose output size is a value of their inputs rather than a size of them. */
const SIZED_BY_VALUE = new Set(['ConstantOfShape', 'Expand', 'Tile', 'Resize', 'Range']);

/**
 * 2^27 values (512 MiB of float32) per example, for a backbone's input and for any tensor whose
 * size is a value: some hundred times the largest activation of an ImageNet network at 224x224,
 * well short of exhausting memory.
 */
export const MAX_TENSOR_VALUES = 2 ** 27;

/** All initializers together: the most a protobuf file can hold. */
export const MAX_INITIALIZER_BYTES = 2 ** 31;

/** Values of tensors this small are followed (shape arithmetic); larger ones only by shape. */
const MAX_TRACKED_VALUES = 64;

interface Known {
  shape?: number[];
  value?: number[];
}

export interface BoundsInput {
  file: string;
  input: string;
  /** The input's shape; -1 (the batch) is taken as one example. */
  inputShape: readonly number[];
  nodes: readonly NodeObject[];
  initializers: readonly TensorProtoObject[];
}

export function checkGraphBounds(g: BoundsInput): void {
  checkInitializerBytes(g);
  inferShapes(g, (node, name, shape) => {
    if (!SIZED_BY_VALUE.has(node.op_type ?? '') || (node.domain ?? '') !== '') return;
    if (!shape) {
      throw onnxError(g.file, `node "${name}" (${node.op_type}) takes its output size from values graft cannot work out before running the graph, so it cannot be bounded`);
    }
    const values = numel(shape);
    if (values > MAX_TENSOR_VALUES) {
      throw onnxError(g.file, `node "${name}" (${node.op_type}) would output shape [${shape}] (${values} values per example), more than the ${MAX_TENSOR_VALUES} graft allows one tensor`);
    }
  });
}

/**
 * The shape of every tensor this pass can follow, for one example; `visit` sees each node's
 * first output shape (undefined where it is not known) as it is worked out.
 */
export function inferShapes(
  g: BoundsInput, visit: (node: NodeObject, name: string, shape: number[] | undefined) => void = () => {},
): Map<string, number[] | undefined> {
  const known = new Map<string, Known>();
  known.set(g.input, { shape: g.inputShape.map((d) => (d === -1 ? 1 : d)) });
  for (const t of g.initializers) known.set(t.name ?? '', constantOf(t));
  g.nodes.forEach((node, index) => {
    const inputs = (node.input ?? []).map((i) => (i ? known.get(i) ?? {} : {}));
    let outputs: Known[];
    try {
      outputs = infer(node, inputs);
    } catch {
      // Unknown, or attributes too odd to follow: only a problem where a size depends on it.
      outputs = [];
    }
    visit(node, node.name || `${node.op_type}_${index}`, outputs[0]?.shape);
    (node.output ?? []).forEach((o, i) => o && known.set(o, outputs[i] ?? {}));
  });
  return new Map([...known].map(([k, v]) => [k, v.shape]));
}

function checkInitializerBytes(g: BoundsInput): void {
  let total = 0;
  for (const t of g.initializers) {
    const count = (t.dims ?? []).reduce((a, d) => a * Number(d), 1);
    total += count * (ELEMENT_TYPES[t.data_type ?? 0]?.bytes ?? 1);
    if (total > MAX_INITIALIZER_BYTES) {
      throw onnxError(g.file, `its initializers reach ${total} bytes at "${t.name ?? ''}", more than the ${MAX_INITIALIZER_BYTES} graft reads`);
    }
  }
}

/** A size or value this pass does not follow. */
class Unknown extends Error {}
const unknown = (): never => {
  throw new Unknown();
};

function constantOf(t: TensorProtoObject): Known {
  const shape = (t.dims ?? []).map(Number);
  const count = shape.reduce((a, b) => a * b, 1);
  if (count > MAX_TRACKED_VALUES || !ELEMENT_TYPES[t.data_type ?? 0]) return { shape };
  try {
    const values = tensorValues({ name: t.name ?? '', dataType: t.data_type!, dims: shape, proto: t });
    return { shape, value: Array.from(values as ArrayLike<number | bigint>, Number) };
  } catch {
    return { shape };
  }
}

const numel = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);
const shapeOf = (k: Known | undefined): number[] => k?.shape ?? unknown();
const valueOf = (k: Known | undefined): number[] => k?.value ?? unknown();
const withValue = (shape: number[], value: number[] | undefined): Known =>
  value && numel(shape) <= MAX_TRACKED_VALUES ? { shape, value } : { shape };

function attrOf(node: NodeObject, name: string): AttributeObject | undefined {
  return node.attribute?.find((a) => a.name === name);
}
function intAttr(node: NodeObject, name: string, fallback: number): number {
  const a = attrOf(node, name);
  return a?.i !== undefined ? Number(a.i) : fallback;
}
function intsAttr(node: NodeObject, name: string): number[] | undefined {
  return attrOf(node, name)?.ints?.map(Number);
}

function broadcast(a: readonly number[], b: readonly number[]): number[] {
  const rank = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    const x = a[a.length - rank + i] ?? 1;
    const y = b[b.length - rank + i] ?? 1;
    out.push(x === 1 ? y : y === 1 || y === x ? x : unknown());
  }
  return out;
}

/** Element-wise arithmetic on followed values, broadcast as ONNX does for scalars and equal lengths. */
function arithmetic(op: string, a: number[], b: number[]): number[] {
  const n = Math.max(a.length, b.length);
  if (a.length !== n && a.length !== 1) unknown();
  if (b.length !== n && b.length !== 1) unknown();
  return Array.from({ length: n }, (_, i) => {
    const x = a[a.length === 1 ? 0 : i];
    const y = b[b.length === 1 ? 0 : i];
    if (op === 'Add') return x + y;
    if (op === 'Sub') return x - y;
    if (op === 'Mul') return x * y;
    if (y === 0) return unknown();
    return Number.isInteger(x) && Number.isInteger(y) ? Math.trunc(x / y) : x / y;
  });
}

const normAxis = (axis: number, rank: number) => (axis < 0 ? axis + rank : axis);

/** Spatial output size of a convolution or pool along each axis after the batch and channels. */
function windowed(node: NodeObject, x: number[], kernel: number[]): number[] {
  const spatial = x.length - 2;
  if (spatial < 1 || kernel.length !== spatial) unknown();
  const strides = intsAttr(node, 'strides') ?? new Array(spatial).fill(1);
  const dilations = intsAttr(node, 'dilations') ?? new Array(spatial).fill(1);
  const pads = intsAttr(node, 'pads') ?? new Array(2 * spatial).fill(0);
  const autoPad = attrOf(node, 'auto_pad')?.s;
  const mode = autoPad ? new TextDecoder().decode(autoPad) : 'NOTSET';
  const ceil = intAttr(node, 'ceil_mode', 0) === 1;
  return kernel.map((k, i) => {
    const size = x[i + 2];
    if (mode === 'SAME_UPPER' || mode === 'SAME_LOWER') return Math.ceil(size / strides[i]);
    const span = (k - 1) * dilations[i] + 1;
    const padded = size + (mode === 'VALID' ? 0 : pads[i] + pads[i + spatial]);
    const steps = (padded - span) / strides[i];
    return (ceil ? Math.ceil(steps) : Math.floor(steps)) + 1;
  });
}

function matmul(a: number[], b: number[]): number[] {
  if (a.length < 1 || b.length < 1) unknown();
  const a2 = a.length === 1 ? [1, a[0]] : a;
  const b2 = b.length === 1 ? [b[0], 1] : b;
  const batch = broadcast(a2.slice(0, -2), b2.slice(0, -2));
  const out = [...batch, a2[a2.length - 2], b2[b2.length - 1]];
  if (a.length === 1) out.splice(out.length - 2, 1);
  if (b.length === 1) out.splice(out.length - 1, 1);
  return out;
}

function reshape(x: number[], target: number[], allowZero: boolean): number[] {
  const out = target.map((d, i) => (d === 0 && !allowZero ? x[i] ?? unknown() : d));
  const free = out.indexOf(-1);
  if (free >= 0) {
    const rest = numel(out.filter((_, i) => i !== free));
    if (rest === 0) unknown();
    out[free] = numel(x) / rest;
  }
  if (out.some((d) => !Number.isInteger(d) || d < 0)) unknown();
  return out;
}

function sliceRange(start: number, end: number, step: number, size: number): number[] {
  const clamp = (v: number, lo: number, hi: number) => Math.min(Math.max(v, lo), hi);
  const norm = (v: number) => (v < 0 ? v + size : v);
  const s = step > 0 ? clamp(norm(start), 0, size) : clamp(norm(start), -1, size - 1);
  const e = step > 0 ? clamp(norm(end), 0, size) : clamp(norm(end), -1, size - 1);
  const out: number[] = [];
  for (let i = s; step > 0 ? i < e : i > e; i += step) {
    out.push(i);
    if (out.length > MAX_TENSOR_VALUES) break;
  }
  return out;
}

/** Output shapes (and small values) of one node from what is known of its inputs. */
function infer(node: NodeObject, ins: Known[]): Known[] {
  const op = node.op_type ?? '';
  const domain = node.domain ?? '';
  const [x] = ins;
  if (domain === 'com.microsoft') {
    if (op === 'QLinearAdd' || op === 'QLinearMul') return [{ shape: broadcast(shapeOf(ins[0]), shapeOf(ins[3])) }];
    if (op === 'QLinearGlobalAveragePool') {
      const s = shapeOf(x);
      return [{ shape: intAttr(node, 'channels_last', 0) ? [s[0], ...s.slice(1, -1).map(() => 1), s[s.length - 1]] : [s[0], s[1], ...s.slice(2).map(() => 1)] }];
    }
    if (op === 'QLinearSigmoid' || op === 'QLinearLeakyRelu') return [{ shape: shapeOf(x) }];
    return unknown();
  }
  if (domain !== '') return unknown();
  switch (op) {
    case 'Identity': case 'Cast': case 'Neg': case 'Floor': case 'Ceil': case 'Round': case 'Abs':
      return [{ shape: shapeOf(x), value: x.value && (op === 'Neg' ? x.value.map((v) => -v) : op === 'Abs' ? x.value.map(Math.abs) : x.value) }];
    case 'Relu': case 'Sigmoid': case 'Tanh': case 'Clip': case 'HardSigmoid': case 'HardSwish': case 'LeakyRelu': case 'Elu':
    case 'Selu': case 'Exp': case 'Log': case 'Sqrt': case 'Reciprocal': case 'Erf': case 'Softmax': case 'LogSoftmax': case 'Softplus':
    case 'BatchNormalization': case 'InstanceNormalization': case 'LRN': case 'QuantizeLinear': case 'DequantizeLinear': case 'Dropout':
    case 'Not': case 'Sign': case 'Gelu': case 'Mish': case 'PRelu': case 'LayerNormalization':
      return [{ shape: shapeOf(x) }];
    case 'Add': case 'Sub': case 'Mul': case 'Div': {
      const shape = broadcast(shapeOf(ins[0]), shapeOf(ins[1]));
      return [withValue(shape, ins[0].value && ins[1].value ? arithmetic(op, ins[0].value, ins[1].value) : undefined)];
    }
    case 'Pow': case 'Max': case 'Min': case 'Equal': case 'Less': case 'Greater': case 'And': case 'Or': case 'Mod': case 'Sum': case 'Mean':
      return [{ shape: ins.map(shapeOf).reduce(broadcast) }];
    case 'Where':
      return [{ shape: broadcast(broadcast(shapeOf(ins[0]), shapeOf(ins[1])), shapeOf(ins[2])) }];
    case 'Constant': {
      const t = attrOf(node, 'value')?.t;
      if (t) return [constantOf(t)];
      const ints = intsAttr(node, 'value_ints');
      if (ints) return [withValue([ints.length], ints)];
      const one = attrOf(node, 'value_int')?.i ?? attrOf(node, 'value_float')?.f;
      return one !== undefined ? [{ shape: [], value: [Number(one)] }] : unknown();
    }
    case 'Shape': {
      const s = shapeOf(x);
      const start = normAxis(intAttr(node, 'start', 0), s.length);
      const end = normAxis(intAttr(node, 'end', s.length), s.length);
      const value = s.slice(Math.max(0, start), Math.min(s.length, end));
      return [withValue([value.length], value)];
    }
    case 'Size':
      return [{ shape: [], value: [numel(shapeOf(x))] }];
    case 'Gather': {
      const data = shapeOf(x);
      const indices = shapeOf(ins[1]);
      const axis = normAxis(intAttr(node, 'axis', 0), data.length);
      const shape = [...data.slice(0, axis), ...indices, ...data.slice(axis + 1)];
      const value = x.value && ins[1].value && data.length === 1
        ? ins[1].value.map((i) => x.value![i < 0 ? i + data[0] : i] ?? unknown())
        : undefined;
      return [withValue(shape, value)];
    }
    case 'Unsqueeze': {
      const s = shapeOf(x);
      const given = valueOf(ins[1]);
      const axes = given.map((a) => normAxis(a, s.length + given.length)).sort((a, b) => a - b);
      const shape = [...s];
      for (const a of axes) shape.splice(a, 0, 1);
      return [withValue(shape, x.value)];
    }
    case 'Squeeze': {
      const s = shapeOf(x);
      const axes = ins[1]?.value ? ins[1].value.map((a) => normAxis(a, s.length)) : s.flatMap((d, i) => (d === 1 ? [i] : []));
      return [withValue(s.filter((_, i) => !axes.includes(i)), x.value)];
    }
    case 'Concat': {
      const shapes = ins.map(shapeOf);
      const axis = normAxis(intAttr(node, 'axis', 0), shapes[0].length);
      const shape = [...shapes[0]];
      shape[axis] = shapes.reduce((a, s) => a + (s[axis] ?? unknown()), 0);
      const value = ins.every((k) => k.value) && shapes[0].length === 1 ? ins.flatMap((k) => k.value!) : undefined;
      return [withValue(shape, value)];
    }
    case 'Reshape':
      return [withValue(reshape(shapeOf(x), valueOf(ins[1]), intAttr(node, 'allowzero', 0) === 1), x.value)];
    case 'Flatten': {
      const s = shapeOf(x);
      const axis = normAxis(intAttr(node, 'axis', 1), s.length);
      return [{ shape: [numel(s.slice(0, axis)), numel(s.slice(axis))] }];
    }
    case 'Transpose': {
      const s = shapeOf(x);
      const perm = intsAttr(node, 'perm') ?? s.map((_, i) => s.length - 1 - i);
      return [{ shape: perm.map((p) => s[p] ?? unknown()) }];
    }
    case 'Conv': case 'ConvInteger': case 'QLinearConv': {
      const s = shapeOf(x);
      const w = shapeOf(op === 'QLinearConv' ? ins[3] : ins[1]);
      return [{ shape: [s[0], w[0], ...windowed(node, s, intsAttr(node, 'kernel_shape') ?? w.slice(2))] }];
    }
    case 'MaxPool': case 'AveragePool': case 'LpPool': {
      const s = shapeOf(x);
      const out = { shape: [s[0], s[1], ...windowed(node, s, intsAttr(node, 'kernel_shape') ?? unknown())] };
      return [out, out];
    }
    case 'GlobalAveragePool': case 'GlobalMaxPool': case 'GlobalLpPool': {
      const s = shapeOf(x);
      return [{ shape: [s[0], s[1], ...s.slice(2).map(() => 1)] }];
    }
    case 'Gemm': {
      const a = shapeOf(x);
      const b = shapeOf(ins[1]);
      return [{ shape: [intAttr(node, 'transA', 0) ? a[1] : a[0], intAttr(node, 'transB', 0) ? b[0] : b[1]] }];
    }
    case 'MatMul': case 'MatMulInteger':
      return [{ shape: matmul(shapeOf(x), shapeOf(ins[1])) }];
    case 'QLinearMatMul':
      return [{ shape: matmul(shapeOf(x), shapeOf(ins[3])) }];
    case 'ReduceMean': case 'ReduceMax': case 'ReduceMin': case 'ReduceSum': case 'ReduceProd': case 'ReduceL1': case 'ReduceL2':
    case 'ReduceLogSum': case 'ReduceLogSumExp': case 'ReduceSumSquare': case 'ArgMax': case 'ArgMin': {
      const s = shapeOf(x);
      const given = op === 'ArgMax' || op === 'ArgMin' ? [intAttr(node, 'axis', 0)] : intsAttr(node, 'axes') ?? ins[1]?.value;
      const axes = (given ?? s.map((_, i) => i)).map((a) => normAxis(a, s.length));
      const keep = intAttr(node, 'keepdims', 1) === 1;
      return [{ shape: s.flatMap((d, i) => (axes.includes(i) ? (keep ? [1] : []) : [d])) }];
    }
    case 'Pad': {
      const s = shapeOf(x);
      const pads = valueOf(ins[1]);
      if (pads.length !== 2 * s.length) unknown();
      return [{ shape: s.map((d, i) => d + pads[i] + pads[i + s.length]) }];
    }
    case 'Slice': {
      const s = shapeOf(x);
      const starts = valueOf(ins[1]);
      const ends = valueOf(ins[2]);
      const axes = ins[3]?.value ?? starts.map((_, i) => i);
      const steps = ins[4]?.value ?? starts.map(() => 1);
      const shape = [...s];
      let value = x.value;
      axes.forEach((a, i) => {
        const axis = normAxis(a, s.length);
        if (steps[i] === 0) unknown();
        const picked = sliceRange(starts[i], ends[i], steps[i], s[axis]);
        shape[axis] = picked.length;
        if (value && s.length === 1) value = picked.map((j) => value![j]);
      });
      return [withValue(shape, s.length === 1 ? value : undefined)];
    }
    case 'ConstantOfShape': {
      const shape = valueOf(x);
      if (shape.some((d) => !Number.isInteger(d) || d < 0)) unknown();
      return [{ shape }];
    }
    case 'Expand':
      return [{ shape: broadcast(shapeOf(x), valueOf(ins[1])) }];
    case 'Tile': {
      const s = shapeOf(x);
      const repeats = valueOf(ins[1]);
      if (repeats.length !== s.length || repeats.some((r) => !Number.isInteger(r) || r < 0)) unknown();
      return [{ shape: s.map((d, i) => d * repeats[i]) }];
    }
    case 'Resize': {
      const s = shapeOf(x);
      const sizes = ins[3]?.value;
      if (sizes && sizes.length) {
        if (sizes.length !== s.length) unknown();
        return [{ shape: sizes }];
      }
      const scales = valueOf(ins[2]);
      if (scales.length !== s.length || scales.some((f) => !(f > 0))) unknown();
      return [{ shape: s.map((d, i) => Math.floor(d * scales[i])) }];
    }
    case 'Range': {
      const [start, limit, delta] = [valueOf(ins[0])[0], valueOf(ins[1])[0], valueOf(ins[2])[0]];
      if (delta === 0 || ![start, limit, delta].every(Number.isFinite)) unknown();
      const count = Math.max(Math.ceil((limit - start) / delta), 0);
      return [withValue([count], count <= MAX_TRACKED_VALUES ? Array.from({ length: count }, (_, i) => start + i * delta) : undefined)];
    }
    default:
      return unknown();
  }
}
