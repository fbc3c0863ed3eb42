import { encodeModel } from '../graph/onnx-encode.ts';
import { onnxError, type OnnxModel, type OnnxNode, type OnnxTensor, type OnnxValueInfo } from './onnx-model.ts';

/**
 * A model cut at one tensor: the nodes that tensor needs (in execution order), the initializers
 * they read, and the one graph input they start from. A quantized cut tensor is followed by a
 * DequantizeLinear, so a cut always ends in float features.
 */
export interface OnnxCut {
  readonly model: OnnxModel;
  readonly input: OnnxValueInfo;
  /** The tensor the model was cut at, as the file names it. */
  readonly tensor: string;
  /** The float output: `tensor` itself, or its dequantized form. */
  readonly output: string;
  /** Scale and zero-point tensors when the cut tensor holds quantized integers. */
  readonly quantization: { scale: string; zeroPoint: string } | null;
  readonly nodes: readonly OnnxNode[];
  readonly initializers: readonly OnnxTensor[];
}

/** Ops whose input is the feature vector of a classifier head. */
const HEAD_OPS = new Set(['Gemm', 'MatMul', 'QLinearMatMul', 'MatMulInteger']);

/**
 * Where a quantized tensor's scale and zero point are, by the op that reads it (input slot of the
 * data, then of its scale and zero point) or, failing that, by the op that writes it.
 */
const QUANTIZED_READERS: Readonly<Record<string, readonly (readonly [number, number, number])[]>> = {
  DequantizeLinear: [[0, 1, 2]],
  QLinearConv: [[0, 1, 2]],
  QLinearMatMul: [[0, 1, 2], [3, 4, 5]],
  QLinearAdd: [[0, 1, 2], [3, 4, 5]],
  QLinearMul: [[0, 1, 2], [3, 4, 5]],
  QLinearGlobalAveragePool: [[0, 1, 2]],
  QLinearAveragePool: [[0, 1, 2]],
  QLinearSigmoid: [[0, 1, 2]],
  QLinearLeakyRelu: [[0, 1, 2]],
};
const QUANTIZED_WRITERS: Readonly<Record<string, readonly [number, number]>> = {
  QuantizeLinear: [1, 2], QLinearConv: [6, 7], QLinearMatMul: [6, 7], QLinearAdd: [6, 7], QLinearMul: [6, 7],
  QLinearGlobalAveragePool: [3, 4], QLinearAveragePool: [3, 4], QLinearSigmoid: [3, 4], QLinearLeakyRelu: [3, 4],
};
/** Ops that move quantized values without changing their scale. */
const LAYOUT_OPS = new Set(['Reshape', 'Flatten', 'Squeeze', 'Unsqueeze', 'Transpose', 'MaxPool', 'Identity']);

/** The model's one input; graft backbones take one image batch. */
function theInput(model: OnnxModel): OnnxValueInfo {
  if (model.inputs.length !== 1) {
    throw onnxError(model.file, `a backbone takes one input but the graph has ${model.inputs.length}: ${model.inputs.map((i) => `"${i.name}"`).join(', ') || 'none'}`);
  }
  const input = model.inputs[0];
  if (input.elemType !== 1) throw onnxError(model.file, `input "${input.name}" has element type ${input.elemType}; graft feeds float32 images (type 1)`);
  return input;
}

/** By default: the features read by the last Gemm/MatMul on the way to the first output. */
export function defaultCutTensor(model: OnnxModel): string {
  const out = model.outputs[0]?.name;
  const queue = out ? [out] : [];
  const seen = new Set<string>(queue);
  while (queue.length) {
    const node = model.producers.get(queue.shift()!);
    if (!node) continue;
    if (HEAD_OPS.has(node.opType)) {
      // The activation side: the operand that is not a stored weight.
      const operands = node.opType === 'QLinearMatMul' ? [node.inputs[0], node.inputs[3]] : node.inputs.slice(0, 2);
      const features = operands.find((t) => !model.initializers.has(t) && model.producers.get(t)?.opType !== 'Constant');
      if (features) return features;
    }
    for (const i of node.inputs) if (i && !seen.has(i)) { seen.add(i); queue.push(i); }
  }
  const near = model.nodes.slice(-6).map((n) => `"${n.outputs[0]}" (${n.opType})`).join(', ');
  throw onnxError(model.file, `no Gemm or MatMul leads to output "${out}", so there is no default place to cut; name a tensor after "#" (the last ones are ${near})`);
}

function quantizationOf(model: OnnxModel, tensor: string): { scale: string; zeroPoint: string } | null {
  for (const n of model.nodes) {
    for (const [data, scale, zeroPoint] of QUANTIZED_READERS[n.opType] ?? []) {
      if (n.inputs[data] === tensor) return { scale: n.inputs[scale], zeroPoint: n.inputs[zeroPoint] ?? '' };
    }
  }
  let t = tensor;
  for (let hops = 0; hops < model.nodes.length; hops++) {
    const writer = model.producers.get(t);
    if (!writer) return null;
    const slots = QUANTIZED_WRITERS[writer.opType];
    if (slots) return { scale: writer.inputs[slots[0]], zeroPoint: writer.inputs[slots[1]] ?? '' };
    if (!LAYOUT_OPS.has(writer.opType)) return null;
    t = writer.inputs[0];
  }
  return null;
}

/** Cuts the model at `tensor` (by default: the classifier head's input) and keeps what it needs. */
export function cutModel(model: OnnxModel, tensor?: string): OnnxCut {
  const input = theInput(model);
  const target = tensor ?? defaultCutTensor(model);
  if (!model.producers.has(target)) {
    const what = model.initializers.has(target) ? 'an initializer' : target === input.name ? 'the graph input' : 'not a tensor of this graph';
    const near = model.nodes.slice(-6).map((n) => `"${n.outputs[0]}"`).join(', ');
    throw onnxError(model.file, `cannot cut at "${target}": it is ${what}; name a tensor a node produces (the last ones are ${near})`);
  }
  const quantization = quantizationOf(model, target);
  const roots = quantization ? [target, quantization.scale, quantization.zeroPoint] : [target];
  const nodes = neededNodes(model, roots.filter(Boolean));
  const initializers = new Set<string>();
  for (const n of nodes) {
    if (n.proto.attribute?.some((a) => a.g || a.graphs?.length)) {
      throw onnxError(model.file, `node "${n.name}" (${n.opType}) holds a subgraph; graft cannot import control flow (If, Loop, Scan) into a backbone`);
    }
    for (const i of n.inputs) if (model.initializers.has(i)) initializers.add(i);
  }
  let output = target;
  if (quantization) {
    output = `${target}_dequantized`;
    const proto = { name: `${target}_DequantizeLinear`, op_type: 'DequantizeLinear', domain: '', input: [target, quantization.scale, quantization.zeroPoint], output: [output], attribute: [] };
    nodes.push({ name: proto.name, opType: 'DequantizeLinear', domain: '', inputs: proto.input, outputs: proto.output, proto });
    for (const i of [quantization.scale, quantization.zeroPoint]) if (model.initializers.has(i)) initializers.add(i);
  }
  if (!nodes.some((n) => n.inputs.includes(input.name))) {
    throw onnxError(model.file, `tensor "${target}" does not depend on the input "${input.name}"; cut at a tensor computed from the image`);
  }
  return { model, input, tensor: target, output, quantization, nodes, initializers: [...initializers].map((n) => model.initializers.get(n)!) };
}

/** The nodes the roots depend on, in execution order (an iterative post-order walk). */
function neededNodes(model: OnnxModel, roots: readonly string[]): OnnxNode[] {
  const order: OnnxNode[] = [];
  const seen = new Set<OnnxNode>();
  for (const root of roots) {
    const first = model.producers.get(root);
    if (!first || seen.has(first)) continue;
    const stack: [OnnxNode, boolean][] = [[first, false]];
    while (stack.length) {
      const [n, expanded] = stack.pop()!;
      if (expanded) { order.push(n); continue; }
      if (seen.has(n)) continue;
      seen.add(n);
      stack.push([n, true]);
      for (const i of n.inputs) {
        const dep = model.producers.get(i);
        if (dep && !seen.has(dep)) stack.push([dep, false]);
      }
    }
  }
  return order;
}

/**
 * The cut as a standalone ONNX file in the source's own operator sets, unconverted: what ONNX
 * Runtime itself computes for the cut, to compare graft against, or to ship the backbone alone.
 */
export function cutModelBytes(cut: OnnxCut): Uint8Array {
  const m = cut.model;
  const used = new Set(['', ...cut.nodes.map((n) => n.domain)]);
  return encodeModel({
    ir_version: m.irVersion || 7,
    opset_import: [...m.opsets].filter(([d]) => used.has(d)).map(([domain, version]) => ({ domain, version })),
    producer_name: 'graft',
    graph: {
      name: 'cut',
      node: cut.nodes.map((n) => n.proto),
      initializer: cut.initializers.map((t) => t.proto),
      input: [valueInfo(cut.input.name, 1, cut.input.shape)],
      output: [valueInfo(cut.output, 1, null)],
    },
  });
}

function valueInfo(name: string, elemType: number, shape: readonly (number | string)[] | null) {
  return {
    name,
    type: { tensor_type: { elem_type: elemType, ...(shape ? { shape: { dim: shape.map((d) => (typeof d === 'number' ? { dim_value: d } : { dim_param: d })) } } : {}) } },
  };
}

