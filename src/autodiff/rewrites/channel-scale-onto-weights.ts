import type { Tensor } from '../../graph/tensor.ts';
import { apply } from '../../graph/op.ts';
import { conv2dInputGrad, conv2dWeightGrad, mul, reduceSum, type ConvAttrs } from '../../graph/ops/index.ts';
import * as T from '../../graph/functional.ts';
import type { RewriteContext } from './rewrite-graph.ts';

/**
 * A convolution's output gradient of the form `u * s`, with `s` one factor per channel
 * ([1, C, 1, 1]; batch norm's backward ends so), has the factor moved onto the weight-sized side
 * of each of the convolution's gradients:
 *
 *   conv2d_input_grad(u * s, w)   ->  conv2d_input_grad(u, w * s')     (s' = s as [C, 1, 1, 1])
 *   conv2d_weight_grad(x, u * s)  ->  conv2d_weight_grad(x, u) * s'
 *   sum(u * s, [0, 2, 3])         ->  sum(u, [0, 2, 3]) * s as [C]     (the bias gradient)
 *
 * Exact: each of the three is linear in the output gradient and reads each output channel
 * through its own filter (or its own sum), so the channel's factor can scale that instead. Only
 * where those are all the uses of `u * s`, so that the full-size product is never formed; the
 * input and weight gradients then share one reshaped factor, as they would from one rule.
 */
export function channelScaleOntoWeights(node: Tensor, graph: RewriteContext): Tensor | null {
  const read = channelLinearRead(node);
  if (!read) return null;
  const product = node.inputs[read.inputIndex];
  const factors = perChannelFactors(product);
  if (!factors || !graph.usedOnlyBy(product, (reader, i) => channelLinearRead(reader)?.inputIndex === i)) return null;
  const u = graph.current(factors.u);
  const s = graph.current(factors.s);
  const channels = product.shape[1];
  const perFilter = () => T.reshape(s, [channels, 1, 1, 1]);
  switch (read.kind) {
    case 'input-grad':
      return apply(conv2dInputGrad, [u, T.mul(graph.current(node.inputs[1]), perFilter())], node.attrs as InputGradAttrs);
    case 'weight-grad':
      return T.mul(apply(conv2dWeightGrad, [graph.current(node.inputs[0]), u], node.attrs as WeightGradAttrs), perFilter());
    case 'channel-sum':
      return T.mul(T.sum(u, [0, 2, 3]), T.reshape(s, [channels]));
  }
}

type InputGradAttrs = ConvAttrs & { inputShape: number[] };
type WeightGradAttrs = ConvAttrs & { weightShape: number[] };

/**
 * Where `node` reads an output gradient linearly and per channel, as a convolution's gradients
 * do: which input it is, and how it is read. Null for anything else.
 */
function channelLinearRead(node: Tensor): { kind: 'input-grad' | 'weight-grad' | 'channel-sum'; inputIndex: number } | null {
  if (node.op === conv2dInputGrad) return { kind: 'input-grad', inputIndex: 0 };
  if (node.op === conv2dWeightGrad) return { kind: 'weight-grad', inputIndex: 1 };
  if (node.op === reduceSum && node.inputs[0].ndim === 4) {
    const { axes, keepdim } = node.attrs as { axes: number[]; keepdim: boolean };
    if (!keepdim && axes.length === 3 && axes[0] === 0 && axes[1] === 2 && axes[2] === 3) return { kind: 'channel-sum', inputIndex: 0 };
  }
  return null;
}

/** `t` as u * s, with u of t's own shape and s of shape [1, C, 1, 1], when it was built so. */
function perChannelFactors(t: Tensor): { u: Tensor; s: Tensor } | null {
  if (t.op !== mul || t.value !== null || t.ndim !== 4) return null;
  const [a, b] = t.inputs;
  const perChannel = (f: Tensor) => f.ndim === 4 && f.shape[0] === 1 && f.shape[1] === t.shape[1] && f.shape[2] === 1 && f.shape[3] === 1;
  const full = (f: Tensor) => f.ndim === 4 && f.shape.every((d, i) => d === t.shape[i]);
  if (full(a) && perChannel(b)) return { u: a, s: b };
  if (full(b) && perChannel(a)) return { u: b, s: a };
  return null;
}
