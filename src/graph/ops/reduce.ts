import { defineOp, type OpDef } from '../op.ts';
import type { Tensor } from '../tensor.ts';
import { check } from '../errors.ts';
import { int, ints } from '../emit.ts';

export type ReduceAttrs = { axes: number[]; keepdim: boolean };

function reducedShape(shape: readonly number[], { axes, keepdim }: ReduceAttrs): number[] {
  for (const a of axes) check(a >= 0 && a < shape.length, () => `axis ${a} is out of range for a ${shape.length}-D input`);
  return keepdim ? shape.map((d, i) => (axes.includes(i) ? 1 : d)) : shape.filter((_, i) => !axes.includes(i));
}

/** The gradient of a reduction, spread back over the reduced axes. */
function spread(g: Tensor, x: Tensor, { axes }: ReduceAttrs): Tensor {
  const kept = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
  return g.reshape(kept).expand(x.shape);
}

export const reduceSum: OpDef<ReduceAttrs> = defineOp<ReduceAttrs>({
  name: 'sum',
  shape: ([x], a) => ({ shape: reducedShape(x.shape, a) }),
  emit: (ctx, [x], { axes, keepdim }) => ctx.node('ReduceSum', [x, ctx.int64s(axes)], { keepdims: int(keepdim ? 1 : 0) }),
  grad: (g, _out, [x], a) => [spread(g, x, a)],
});

export const reduceMean: OpDef<ReduceAttrs> = defineOp<ReduceAttrs>({
  name: 'mean',
  shape: ([x], a) => ({ shape: reducedShape(x.shape, a) }),
  emit: (ctx, [x], { axes, keepdim }) => ctx.node('ReduceMean', [x], { axes: ints(axes), keepdims: int(keepdim ? 1 : 0) }),
  grad: (g, _out, [x], a) => {
    const count = a.axes.reduce((n, i) => n * x.shape[i], 1);
    return [spread(g.mul(1 / count), x, a)];
  },
});

// No gradient rule: ties make it ambiguous, and nothing in graft differentiates through it.
export const reduceMax: OpDef<ReduceAttrs> = defineOp<ReduceAttrs>({
  name: 'max',
  shape: ([x], a) => ({ shape: reducedShape(x.shape, a) }),
  emit: (ctx, [x], { axes, keepdim }) => ctx.node('ReduceMax', [x], { axes: ints(axes), keepdims: int(keepdim ? 1 : 0) }),
});

export const softmax = defineOp<{ axis: number }>({
  name: 'softmax',
  shape: ([x], { axis }) => {
    check(axis >= 0 && axis < x.ndim, () => `axis ${axis} is out of range for a ${x.ndim}-D input`);
    return { shape: [...x.shape] };
  },
  emit: (ctx, [x], { axis }) => ctx.node('Softmax', [x], { axis: int(axis) }),
  grad: (g, out, _inputs, { axis }) => [out.mul(g.sub(g.mul(out).sum(axis, true)))],
});

export const logSoftmax = defineOp<{ axis: number }>({
  name: 'log_softmax',
  shape: ([x], { axis }) => {
    check(axis >= 0 && axis < x.ndim, () => `axis ${axis} is out of range for a ${x.ndim}-D input`);
    return { shape: [...x.shape] };
  },
  emit: (ctx, [x], { axis }) => ctx.node('LogSoftmax', [x], { axis: int(axis) }),
  grad: (g, out, _inputs, { axis }) => [g.sub(out.exp().mul(g.sum(axis, true)))],
});
