import type { Tensor } from '../../graph/tensor.ts';
import { apply } from '../../graph/op.ts';
import { gelu } from '../../graph/ops/index.ts';
import type { RewriteContext } from './rewrite-graph.ts';

/**
 * A GELU's output read by the backward pass (the next Linear's weight gradient reads its input)
 * is computed there again from the GELU's input, which the GELU's own gradient keeps anyway: the
 * forward's output then dies as soon as the forward has used it. In ViT, Swin and ConvNeXt that
 * output is the widest tensor of every block (4x the width of the stream), and PyTorch keeps it;
 * recomputing it costs one elementwise kernel per block (see bench/NOTES.md, "What a training
 * step holds at its peak").
 *
 * Exact: the same function of the same input.
 */
export function recomputeActivations(node: Tensor, graph: RewriteContext): Tensor | null {
  if (graph.inForward(node) || !node.inputs.some(isForwardGelu(graph))) return null;
  const inputs = node.inputs.map((i) => (isForwardGelu(graph)(i) ? apply(gelu, [graph.current(i.inputs[0])], { recomputed: 1 }) : graph.current(i)));
  return apply(node.op!, inputs, node.attrs);
}

const isForwardGelu = (graph: RewriteContext) => (t: Tensor) => t.op === gelu && t.value === null && !t.attrs.recomputed && graph.inForward(t);
