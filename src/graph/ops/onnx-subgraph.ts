import { defineOp, type OpDef } from '../op.ts';
import { check } from '../errors.ts';
import { GraphBuilder } from '../emit.ts';

/**
 * An imported ONNX graph (a backbone cut from a model file) applied as one op: when the graph is
 * emitted, its nodes and initializers are copied in with every name prefixed. The op's attrs hold
 * the graph itself, and since attrs are part of every session signature, the graph serializes to
 * its id there: a digest of the file's content and the cut, so equal imports share sessions and a
 * graph lives exactly as long as the modules that use it. It has no gradient rule: an imported
 * graph is frozen (fine-tuning goes through `dequantize`, which rebuilds it from graft layers).
 */
export interface InlineGraph {
  /** A digest of the source file's bytes, the cut and the input shape; what signatures show. */
  readonly id: string;
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

/** The op's attrs: the graph, shown in signatures by its id alone. */
export type InlineGraphAttrs = { readonly graph: InlineGraph & { toJSON(): string } };

export function inlineGraphAttrs(graph: InlineGraph): InlineGraphAttrs {
  return { graph: { ...graph, toJSON: () => `onnx:${graph.id}` } };
}

/** Copies the graph into `b`, reading `input`; returns the name of its output. */
export function emitInlineGraph(b: GraphBuilder, g: InlineGraph, input: string): string {
  const weights = `${g.id}/`;
  const stored = new Set(g.initializers.map((t) => t.name ?? ''));
  const prefix = `${b.fresh('onnx')}/`;
  const rename = (t: string) => (t === '' ? '' : t === g.input ? input : stored.has(t) ? weights + t : prefix + t);
  // A backbone applied twice in one graph stores its weights once.
  let first = false;
  b.once(`inline-graph:${g.id}`, () => { first = true; return []; });
  const initializers = first ? g.initializers.map((t) => ({ ...t, name: weights + t.name })) : [];
  b.inline({
    nodes: g.nodes.map((n) => ({ ...n, name: prefix + (n.name ?? ''), input: (n.input ?? []).map(rename), output: (n.output ?? []).map(rename) })),
    initializers,
    opsets: g.opsets,
  });
  return rename(g.output);
}

export const onnxSubgraph: OpDef<InlineGraphAttrs> = defineOp<InlineGraphAttrs>({
  name: 'onnx_subgraph',
  shape: ([x], { graph: g }) => {
    check(x.dtype === 'float32', () => `${g.source} takes float32 input but received ${x.dtype}`);
    const fits = x.ndim === g.inputShape.length && g.inputShape.every((d, i) => d === -1 || d === x.shape[i]);
    check(fits, () => `${g.source} takes input of shape [${g.inputShape.map((d) => (d === -1 ? 'N' : d))}]`);
    return { shape: g.outputShape.map((d) => (d === -1 ? x.shape[0] : d)) };
  },
  emit: (ctx, [x], { graph }) => {
    if (!(ctx instanceof GraphBuilder)) throw new TypeError('An imported ONNX graph can only be emitted into a GraphBuilder');
    return emitInlineGraph(ctx, graph, x);
  },
});
