import type { Tensor } from '../../graph/tensor.ts';
import { apply } from '../../graph/op.ts';
import { gelu, layerNorm } from '../../graph/ops/index.ts';
import type { RewriteContext } from './rewrite-graph.ts';

/**
 * A GELU's or a layer norm's output read by the backward pass (the next Linear's weight gradient
 * reads its input) is computed there again from the op's inputs, which its own gradient keeps
 * anyway: the forward's output then dies as soon as the forward has used it. In ViT, Swin and
 * ConvNeXt the GELU's output is the widest tensor of every block (4x the width of the stream), and
 * each block's two layer norms' outputs are as wide as the stream; PyTorch keeps all of them.
 * Recomputing costs one elementwise or normalization kernel each (see bench/NOTES.md, "What a
 * training step holds at its peak").
 *
 * Exact: the same function of the same inputs.
 */
export function recomputeActivations(node: Tensor, graph: RewriteContext): Tensor | null {
  const recomputable = isRecomputable(graph);
  if (graph.inForward(node) || !node.inputs.some(recomputable)) return null;
  const inputs = node.inputs.map((i) => (recomputable(i) ? apply(i.op!, i.inputs.map((x) => graph.current(x)), { ...i.attrs, recomputed: 1 }) : graph.current(i)));
  return apply(node.op!, inputs, node.attrs);
}

const RECOMPUTED: ReadonlySet<unknown> = new Set([gelu, layerNorm]);

const isRecomputable = (graph: RewriteContext) => (t: Tensor) =>
  RECOMPUTED.has(t.op) && t.value === null && !t.attrs.recomputed && graph.inForward(t);
