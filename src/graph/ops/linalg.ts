import { apply, defineOp, type OpDef } from '../op.ts';
import type { Tensor } from '../tensor.ts';
import { check } from '../errors.ts';
import { int, ints } from '../emit.ts';
import { broadcastShapes } from './broadcast.ts';

/** Which operands of a matrix product are read transposed (their last two axes swapped). */
export type MatmulAttrs = { transA?: 1; transB?: 1 };

const product = (a: Tensor, b: Tensor, attrs: MatmulAttrs): Tensor => apply(matmul, [a, b], attrs);
const lastTwoSwapped = (shape: readonly number[]) => [...shape.slice(0, -2), shape[shape.length - 1], shape[shape.length - 2]];

/**
 * Matrix product of 2-D operands, or batched with broadcasting over leading dimensions; either
 * operand may be read transposed. Graphs graft runs get ONNX Runtime's FusedMatMul for those,
 * which is what its own fusion makes of a Transpose before a MatMul; made by graft, the node keeps
 * its place in the graph's order, where a node ONNX Runtime makes is numbered after all of them
 * and, producing a weight gradient, would be scheduled first (see runtime/backward.ts).
 */
export const matmul: OpDef<MatmulAttrs> = defineOp<MatmulAttrs>({
  name: 'matmul',
  shape: ([a0, b0], { transA, transB }) => {
    check(a0.ndim >= 2 && b0.ndim >= 2, 'both operands need at least 2 dimensions');
    const a = transA ? lastTwoSwapped(a0.shape) : a0.shape;
    const b = transB ? lastTwoSwapped(b0.shape) : b0.shape;
    const k = a[a.length - 1];
    check(k === b[b.length - 2], () => `inner dimensions differ: ${k} vs ${b[b.length - 2]}`);
    const lead = broadcastShapes(a.slice(0, -2), b.slice(0, -2));
    return { shape: [...lead, a[a.length - 2], b[b.length - 1]] };
  },
  emit: (ctx, [a, b], { transA, transB }, out) => {
    if (!transA && !transB) return ctx.node('MatMul', [a, b]);
    if (!ctx.standardOps) return ctx.runtimeNode('FusedMatMul', [a, b], { transA: int(transA ?? 0), transB: int(transB ?? 0) });
    const swap = (name: string, rank: number) => ctx.node('Transpose', [name], { perm: ints([...Array(rank - 2).keys(), rank - 1, rank - 2]) });
    const [ta, tb] = out.inputs;
    return ctx.node('MatMul', [transA ? swap(a, ta.ndim) : a, transB ? swap(b, tb.ndim) : b]);
  },
  // With C = op(A) op(B): dop(A) = G op(B)^T and dop(B) = op(A)^T G, each read back through its
  // transpose. Batched operands get gradients at the broadcast batch shape; the walker sums them back.
  grad: (g, _out, [a, b], { transA, transB }) => [
    transA ? product(b, g, { ...(transB ? { transA: 1 } : {}), transB: 1 }) : product(g, b, transB ? {} : { transB: 1 }),
    transB ? product(g, a, { transA: 1, ...(transA ? { transB: 1 } : {}) }) : product(a, g, transA ? {} : { transA: 1 }),
  ],
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
    if (x.ndim === 2) return [g.matmul(w), product(g, x, { transA: 1 }), b ? g.sum(0) : null];
    const [n, k] = [w.shape[0], w.shape[1]];
    const g2 = g.reshape([g.size / n, n]);
    const x2 = x.reshape([x.size / k, k]);
    return [g2.matmul(w).reshape(x.shape), product(g2, x2, { transA: 1 }), b ? g2.sum(0) : null];
  },
});
