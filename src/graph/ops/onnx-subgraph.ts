// tensor.ts first: it loads the op table in the order the other ops need, and io code imports this file directly.
import '../tensor.ts';
import { defineOp, type OpDef } from '../op.ts';
import { check } from '../errors.ts';
import { GraphBuilder } from '../emit.ts';

/**
 * An imported ONNX graph (a backbone cut from a model file) applied as one op: when the graph is
 * emitted, its nodes and initializers are copied in with every name prefixed. The op's attrs
 * carry only the graph's id, since attrs are part of every session signature; the graph itself
 * lives in the registry below. It has no gradient rule: an imported graph is frozen (fine-tuning
 * goes through `dequantize`, which rebuilds it from graft layers).
 */
export interface InlineGraph {
  /** Where it came from, for messages: the file and the tensor it was cut at. */
  readonly source: string;
  /** The graph's input and output tensor names. */
  readonly input: string;
  readonly output: string;
  /** NodeProto and TensorProto objects, in the standard operator-set version graft emits. */
  readonly nodes: readonly { name?: string; input?: readonly string[]; output?: readonly string[] }[];
  readonly initializers: readonly { name?: string }[];
  /** Operator sets the nodes need besides the standard one (com.microsoft for QLinearAdd). */
  readonly opsets: ReadonlyMap<string, number>;
  /** Input and output shapes; -1 marks the batch dimension. */
  readonly inputShape: readonly number[];
  readonly outputShape: readonly number[];
}

const graphs = new Map<string, InlineGraph>();

/** Keeps the graph for the op to find; returns its id. Graphs stay registered for the process' life. */
export function registerInlineGraph(graph: InlineGraph): string {
  const id = `onnx${graphs.size}`;
  graphs.set(id, graph);
  return id;
}

export function inlineGraph(id: string): InlineGraph {
  const g = graphs.get(id);
  if (!g) throw new Error(`No imported ONNX graph is registered as "${id}"`);
  return g;
}

/** Per built graph: imported graphs whose initializers are already in it, so a backbone applied twice stores its weights once. */
const inlined = new WeakMap<GraphBuilder, Set<string>>();

/** Copies the graph into `b`, reading `input`; returns the name of its output. */
export function emitInlineGraph(b: GraphBuilder, id: string, input: string): string {
  const g = inlineGraph(id);
  const weights = `${id}/`;
  const stored = new Set(g.initializers.map((t) => t.name ?? ''));
  const prefix = `${b.fresh(id)}/`;
  const rename = (t: string) => (t === '' ? '' : t === g.input ? input : stored.has(t) ? weights + t : prefix + t);
  let done = inlined.get(b);
  if (!done) inlined.set(b, (done = new Set()));
  const initializers = done.has(id) ? [] : g.initializers.map((t) => ({ ...t, name: weights + t.name }));
  done.add(id);
  b.inline({
    nodes: g.nodes.map((n) => ({ ...n, name: prefix + (n.name ?? ''), input: (n.input ?? []).map(rename), output: (n.output ?? []).map(rename) })),
    initializers,
    opsets: g.opsets,
  });
  return rename(g.output);
}

export const onnxSubgraph: OpDef<{ id: string }> = defineOp<{ id: string }>({
  name: 'onnx_subgraph',
  shape: ([x], { id }) => {
    const g = inlineGraph(id);
    check(x.dtype === 'float32', () => `${g.source} takes float32 input but received ${x.dtype}`);
    const fits = x.ndim === g.inputShape.length && g.inputShape.every((d, i) => d === -1 || d === x.shape[i]);
    check(fits, () => `${g.source} takes input of shape [${g.inputShape.map((d) => (d === -1 ? 'N' : d))}]`);
    return { shape: g.outputShape.map((d) => (d === -1 ? x.shape[0] : d)) };
  },
  emit: (ctx, [x], { id }) => {
    if (!(ctx instanceof GraphBuilder)) throw new TypeError('An imported ONNX graph can only be emitted into a GraphBuilder');
    return emitInlineGraph(ctx, id, x);
  },
});
