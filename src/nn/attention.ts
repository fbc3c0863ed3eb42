import type { Tensor } from '../graph/tensor.ts';
import * as T from '../graph/functional.ts';
import { linear } from './functional.ts';
import { ShapeError } from '../graph/errors.ts';
import { currentScope } from '../graph/scope.ts';

/**
 * softmax(q k^T / sqrt(d)) v over the last two axes (q: [..., L, d], k and v: [..., S, d]), as
 * PyTorch's multi-head attention computes it: q is scaled before the product. Composed of batched
 * MatMul and Softmax, whose rules give its gradient.
 */
export function scaledDotProductAttention(q: Tensor, k: Tensor, v: Tensor): Tensor {
  const d = q.shape[q.ndim - 1];
  const scores = T.matmul(T.div(q, Math.sqrt(d)), T.transpose(k, -1, -2));
  return T.matmul(T.softmax(scores, -1), v);
}

/**
 * Self-attention of a batch-first sequence x [N, L, E] with PyTorch's nn.MultiheadAttention
 * weights: one packed input projection (q, k and v stacked, [3E, E]), `heads` heads of E/heads
 * features, and the output projection. The batch stays the first axis of every reshape, so the
 * graph also runs at other batch sizes once exported.
 */
export function multiHeadSelfAttention(
  x: Tensor, inProjWeight: Tensor, inProjBias: Tensor | null, outProjWeight: Tensor, outProjBias: Tensor | null, heads: number,
): Tensor {
  if (x.ndim !== 3 || x.shape[2] % heads !== 0) {
    throw new ShapeError('multi_head_attention', currentScope(), `expected [batch, length, features] with features divisible by ${heads} heads`, [x.shape]);
  }
  const [n, l, e] = x.shape;
  const d = e / heads;
  const qkv = T.permute(T.reshape(linear(x, inProjWeight, inProjBias), [n, l, 3, heads, d]), [0, 2, 3, 1, 4]);
  const part = (i: number) => T.reshape(T.narrow(qkv, 1, i, 1), [n, heads, l, d]);
  const attended = scaledDotProductAttention(part(0), part(1), part(2));
  return linear(T.reshape(T.permute(attended, [0, 2, 1, 3]), [n, l, e]), outProjWeight, outProjBias);
}
