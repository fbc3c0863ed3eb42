import { defineOp, type OpDef } from '../op.ts';
import { check } from '../errors.ts';
import { int } from '../emit.ts';
import { broadcastShapes } from './broadcast.ts';

/** Matrix product of 2-D operands, or batched with broadcasting over leading dimensions. */
export const matmul: OpDef<{}> = defineOp<{}>({
  name: 'matmul',
  shape: ([a, b]) => {
    check(a.ndim >= 2 && b.ndim >= 2, 'both operands need at least 2 dimensions');
    const k = a.shape[a.ndim - 1];
    check(k === b.shape[b.ndim - 2], () => `inner dimensions differ: ${k} vs ${b.shape[b.ndim - 2]}`);
    const lead = broadcastShapes(a.shape.slice(0, -2), b.shape.slice(0, -2));
    return { shape: [...lead, a.shape[a.ndim - 2], b.shape[b.ndim - 1]] };
  },
  emit: (ctx, [a, b]) => ctx.node('MatMul', [a, b]),
  // Batched operands get gradients at the broadcast batch shape; the walker sums them back.
  grad: (g, _out, [a, b]) => [g.matmul(b.transpose(-1, -2)), a.transpose(-1, -2).matmul(g)],
});

/**
 * y = x W^T + b over the last axis of x (any rank >= 1), PyTorch's weight layout (out_features,
 * in_features). A 2-D input is one Gemm; others are viewed as 2-D around it (the leading axes as
 * rows, so the view holds whatever the batch size), which keeps the weight untransposed.
 */
export const linear: OpDef<{}> = defineOp<{}>({
  name: 'linear',
  shape: ([x, w, b]) => {
    check(x.ndim >= 1, 'expected an input with a feature axis but received a scalar');
    check(w.ndim === 2, `expected a 2-D weight but received ${w.ndim}-D`);
    const features = x.shape[x.ndim - 1];
    check(features === w.shape[1], () => `input has ${features} features but the weight expects ${w.shape[1]}`);
    if (b) check(b.ndim === 1 && b.shape[0] === w.shape[0], () => `bias of shape [${b.shape}] does not match ${w.shape[0]} outputs`);
    return { shape: [...x.shape.slice(0, -1), w.shape[0]] };
  },
  emit: (ctx, inputs, _attrs, out) => {
    const [x, ...rest] = inputs;
    const xShape = out.inputs[0].shape;
    if (xShape.length === 2) return ctx.node('Gemm', inputs, { transB: int(1) });
    const rows = ctx.node('Reshape', [x, ctx.int64s([-1, xShape[xShape.length - 1]])]);
    const y = ctx.node('Gemm', [rows, ...rest], { transB: int(1) });
    const target = xShape.length === 1 ? out.shape : [-1, ...out.shape.slice(1)];
    return ctx.node('Reshape', [y, ctx.int64s(target)]);
  },
  grad: (g, _out, [x, w, b]) => {
    if (x.ndim === 2) return [g.matmul(w), g.transpose(0, 1).matmul(x), b ? g.sum(0) : null];
    const [n, k] = [w.shape[0], w.shape[1]];
    const g2 = g.reshape([g.size / n, n]);
    const x2 = x.reshape([x.size / k, k]);
    return [g2.matmul(w).reshape(x.shape), g2.transpose(0, 1).matmul(x2), b ? g2.sum(0) : null];
  },
});
