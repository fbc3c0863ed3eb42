import { OPSET } from '../graph/emit.ts';
import { attr, onnxError, type AttributeObject, type NodeObject, type OnnxModel, type OnnxNode, type TensorProtoObject } from './onnx-model.ts';
import { tensorValues } from './onnx-model.ts';

/**
 * Brings nodes of the standard operator set from the source file's version to the one graft emits
 * (opset 17), for the ops whose form changed in between: attributes that became inputs (axes of
 * Unsqueeze, Squeeze and ReduceSum at 13, Clip's bounds and Pad's pads at 11, Slice's ranges at
 * 10), Softmax's 2-D coercion dropped at 13, and the reverse of opset 18's reduce axes. Ops that
 * changed meaning in a way graft does not rewrite are refused, naming the node and the versions.
 */
export interface ConvertedNodes {
  readonly nodes: readonly NodeObject[];
  /** Constants the rewritten nodes read (axes, bounds), named after the node's output. */
  readonly initializers: readonly TensorProtoObject[];
}

/** The oldest source graft converts: BatchNormalization and most ops took their modern form at 7. */
const OLDEST_OPSET = 7;

const REDUCE_OPS = ['ReduceMean', 'ReduceMax', 'ReduceMin', 'ReduceProd', 'ReduceL1', 'ReduceL2', 'ReduceLogSum', 'ReduceLogSumExp', 'ReduceSumSquare'];

export function convertNodes(model: OnnxModel, nodes: readonly OnnxNode[], target = OPSET): ConvertedNodes {
  const from = model.opsets.get('')!;
  if (from < OLDEST_OPSET) throw onnxError(model.file, `it uses ONNX opset ${from}; graft converts opset ${OLDEST_OPSET} and later to the opset ${target} it emits`);
  const out: NodeObject[] = [];
  const initializers: TensorProtoObject[] = [];
  const consumed = new Set(nodes.flatMap((n) => n.inputs));
  const refuse = (n: OnnxNode, why: string): never => {
    throw onnxError(model.file, `node "${n.name}" (${n.opType}) cannot be converted from opset ${from} to opset ${target}, the version graft emits: ${why}`);
  };
  const int64s = (n: OnnxNode, role: string, values: readonly (number | bigint)[]): string => {
    const name = `${n.outputs[0]}__${role}`;
    const data = BigInt64Array.from(values, (v) => BigInt(v));
    initializers.push({ name, dims: [String(values.length)], data_type: 7, raw_data: new Uint8Array(data.buffer) });
    return name;
  };
  const float = (n: OnnxNode, role: string, value: number): string => {
    const name = `${n.outputs[0]}__${role}`;
    initializers.push({ name, dims: [], data_type: 1, raw_data: new Uint8Array(Float32Array.of(value).buffer) });
    return name;
  };
  const without = (n: OnnxNode, ...names: string[]): AttributeObject[] => (n.proto.attribute ?? []).filter((a) => !names.includes(a.name));
  const ints = (n: OnnxNode, name: string) => attr(n, name)?.ints?.map((v) => BigInt(v));

  for (const n of nodes) {
    const p = n.proto;
    if (n.domain !== '' || from === target) { out.push(p); continue; }
    const up = (version: number) => from < version && target >= version;
    const down = (version: number) => from >= version && target < version;
    const op = n.opType;
    if ((op === 'Unsqueeze' || op === 'Squeeze' || op === 'ReduceSum') && up(13)) {
      const axes = ints(n, 'axes');
      out.push({ ...p, input: axes ? [n.inputs[0], int64s(n, 'axes', axes)] : [n.inputs[0]], attribute: without(n, 'axes') });
    } else if (op === 'Split' && up(13)) {
      const split = ints(n, 'split');
      out.push({ ...p, input: split ? [n.inputs[0], int64s(n, 'split', split)] : [n.inputs[0]], attribute: without(n, 'split') });
    } else if ((op === 'Softmax' || op === 'LogSoftmax' || op === 'Hardmax') && up(13)) {
      // Before 13 these flattened the input to 2-D at `axis` (default 1); now they act along one axis.
      const axis = Number(attr(n, 'axis')?.i ?? 1);
      const flat = `${n.outputs[0]}__2d`;
      const shape = `${n.outputs[0]}__shape`;
      const result = `${n.outputs[0]}__2d_result`;
      out.push(
        { name: `${n.name}__flatten`, op_type: 'Flatten', input: [n.inputs[0]], output: [flat], attribute: [{ name: 'axis', type: 2, i: String(axis) }] },
        { name: n.name, op_type: op, input: [flat], output: [result], attribute: [{ name: 'axis', type: 2, i: '1' }] },
        { name: `${n.name}__shape`, op_type: 'Shape', input: [n.inputs[0]], output: [shape], attribute: [] },
        { name: `${n.name}__reshape`, op_type: 'Reshape', input: [result, shape], output: [n.outputs[0]], attribute: [] },
      );
    } else if (op === 'Clip' && up(11)) {
      const min = attr(n, 'min')?.f;
      const max = attr(n, 'max')?.f;
      out.push({ ...p, input: [n.inputs[0], min !== undefined ? float(n, 'min', min) : '', max !== undefined ? float(n, 'max', max) : ''], attribute: [] });
    } else if (op === 'Pad' && up(11)) {
      const pads = ints(n, 'pads') ?? refuse(n, 'it has no pads');
      const value = attr(n, 'value')?.f ?? 0;
      out.push({ ...p, input: [n.inputs[0], int64s(n, 'pads', pads), float(n, 'value', value)], attribute: without(n, 'pads', 'value') });
    } else if (op === 'Slice' && up(10)) {
      const starts = ints(n, 'starts') ?? refuse(n, 'it has no starts');
      const ends = ints(n, 'ends') ?? refuse(n, 'it has no ends');
      const axes = ints(n, 'axes');
      out.push({ ...p, input: [n.inputs[0], int64s(n, 'starts', starts), int64s(n, 'ends', ends), ...(axes ? [int64s(n, 'axes', axes)] : [])], attribute: [] });
    } else if (op === 'TopK' && up(10)) {
      const k = attr(n, 'k')?.i ?? refuse(n, 'it has no k');
      out.push({ ...p, input: [n.inputs[0], int64s(n, 'k', [BigInt(k)])], attribute: without(n, 'k') });
    } else if (op === 'BatchNormalization' && up(9)) {
      if (attr(n, 'spatial')?.i === '0') refuse(n, 'spatial=0 (per-activation statistics) was removed at opset 9');
      out.push({ ...p, attribute: without(n, 'spatial', 'is_test', 'consumed_inputs') });
    } else if (op === 'Dropout' && up(12)) {
      // Inference: the identity. Its mask output has no inference meaning.
      if (n.outputs[1] && consumed.has(n.outputs[1])) refuse(n, 'its mask output is used');
      out.push({ name: n.name, op_type: 'Identity', input: [n.inputs[0]], output: [n.outputs[0]], attribute: [] });
    } else if (op === 'Upsample' || (op === 'Resize' && up(11))) {
      refuse(n, 'its coordinate convention changed at opset 11; re-export the model at opset 11 or later');
    } else if (REDUCE_OPS.includes(op) && down(18)) {
      const axesName = n.inputs[1];
      let axes: bigint[] | undefined;
      if (axesName) {
        const stored = model.initializers.get(axesName) ?? refuse(n, 'its axes are computed at run time, opset 17 needs them as an attribute');
        axes = Array.from(tensorValues(stored) as BigInt64Array);
      }
      out.push({ ...p, input: [n.inputs[0]], attribute: [...without(n, 'noop_with_empty_axes'), ...(axes ? [{ name: 'axes', type: 7, ints: axes.map(String) }] : [])] });
    } else if (op === 'Split' && down(18)) {
      out.push({ ...p, attribute: without(n, 'num_outputs') });
    } else if (op === 'Pad' && down(18) && n.inputs[3]) {
      refuse(n, 'its axes input is new in opset 18');
    } else if (op === 'Resize' && down(18) && (attr(n, 'antialias')?.i ?? '0') !== '0') {
      refuse(n, 'antialiasing is new in opset 18');
    } else {
      out.push(p);
    }
  }
  return { nodes: out, initializers };
}
