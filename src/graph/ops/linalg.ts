import { defineOp, type OpDef } from '../op.ts';
import { check } from '../errors.ts';
import { int } from '../emit.ts';

/** Matrix product of 2-D operands, or batched with broadcasting over leading dimensions. */
export const matmul: OpDef<{}> = defineOp<{}>({
  name: 'matmul',
  shape: ([a, b]) => {
    check(a.ndim >= 2 && b.ndim >= 2, 'both operands need at least 2 dimensions');
    const k = a.shape[a.ndim - 1];
    check(k === b.shape[b.ndim - 2], () => `inner dimensions differ: ${k} vs ${b.shape[b.ndim - 2]}`);
    const lead = a.ndim >= b.ndim ? a.shape.slice(0, -2) : b.shape.slice(0, -2);
    return { shape: [...lead, a.shape[a.ndim - 2], b.shape[b.ndim - 1]] };
  },
  emit: (ctx, [a, b]) => ctx.node('MatMul', [a, b]),
  // Batched operands get gradients at the broadcast batch shape; the walker sums them back.
  grad: (g, _out, [a, b]) => [g.matmul(b.transpose(-1, -2)), a.transpose(-1, -2).matmul(g)],
});

/** y = x W^T + b for 2-D x, PyTorch's weight layout (out_features, in_features). */
export const linear: OpDef<{}> = defineOp<{}>({
  name: 'linear',
  shape: ([x, w, b]) => {
    check(x.ndim === 2, `expected a 2-D input (N, in_features) but received ${x.ndim}-D; flatten it first`);
    check(w.ndim === 2, `expected a 2-D weight but received ${w.ndim}-D`);
    check(x.shape[1] === w.shape[1], () => `input has ${x.shape[1]} features but the weight expects ${w.shape[1]}`);
    if (b) check(b.ndim === 1 && b.shape[0] === w.shape[0], () => `bias of shape [${b.shape}] does not match ${w.shape[0]} outputs`);
    return { shape: [x.shape[0], w.shape[0]] };
  },
  emit: (ctx, inputs) => ctx.node('Gemm', inputs, { transB: int(1) }),
  grad: (g, _out, [x, w, b]) => [g.matmul(w), g.transpose(0, 1).matmul(x), b ? g.sum(0) : null],
});
