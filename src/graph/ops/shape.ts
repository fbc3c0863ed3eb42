import { defineOp } from '../op.ts';
import { check } from '../errors.ts';
import { int, ints } from '../emit.ts';
import { numel } from '../../io/state-dict.ts';

/** A view with another shape holding the same values in the same order. */
export const reshape = defineOp<{ shape: number[] }>({
  name: 'reshape',
  shape: ([x], { shape }) => {
    check(shape.every((d) => Number.isInteger(d) && d >= 0), () => `target shape [${shape}] must be concrete (resolve -1 before)`);
    check(numel(shape) === x.size, () => `cannot reshape ${x.size} values into [${shape}]`);
    return { shape: [...shape] };
  },
  emit: (ctx, [x], { shape }) => ctx.node('Reshape', [x, ctx.int64s(shape)]),
});

export const transpose = defineOp<{ perm: number[] }>({
  name: 'transpose',
  shape: ([x], { perm }) => {
    check(perm.length === x.ndim && [...perm].sort().every((p, i) => p === i), () => `perm [${perm}] is not a permutation of ${x.ndim} axes`);
    return { shape: perm.map((p) => x.shape[p]) };
  },
  emit: (ctx, [x], { perm }) => ctx.node('Transpose', [x], { perm: ints(perm) }),
});

export const concat = defineOp<{ axis: number }>({
  name: 'concat',
  shape: (xs, { axis }) => {
    check(xs.length > 0, 'nothing to concatenate');
    const first = xs[0];
    check(axis >= 0 && axis < first.ndim, () => `axis ${axis} is out of range for ${first.ndim}-D inputs`);
    for (const t of xs) {
      check(t.ndim === first.ndim && t.shape.every((d, i) => i === axis || d === first.shape[i]),
        () => `shapes [${first.shape}] and [${t.shape}] differ outside axis ${axis}`);
    }
    const shape = [...first.shape];
    shape[axis] = xs.reduce((s, t) => s + t.shape[axis], 0);
    return { shape };
  },
  emit: (ctx, xs, { axis }) => ctx.node('Concat', xs, { axis: int(axis) }),
});

/** x[..., start:end, ...] along one axis, step 1. */
export const slice = defineOp<{ axis: number; start: number; end: number }>({
  name: 'slice',
  shape: ([x], { axis, start, end }) => {
    check(axis >= 0 && axis < x.ndim, () => `axis ${axis} is out of range for a ${x.ndim}-D input`);
    check(0 <= start && start <= end && end <= x.shape[axis], () => `range ${start}:${end} is outside 0:${x.shape[axis]}`);
    const shape = [...x.shape];
    shape[axis] = end - start;
    return { shape };
  },
  emit: (ctx, [x], { axis, start, end }) => ctx.node('Slice', [x, ctx.int64s([start]), ctx.int64s([end]), ctx.int64s([axis])]),
});

/** Repeats size-1 dimensions to the target shape. */
export const expand = defineOp<{ shape: number[] }>({
  name: 'expand',
  shape: ([x], { shape }) => {
    check(shape.length >= x.ndim, () => `cannot expand [${x.shape}] to fewer dimensions [${shape}]`);
    const off = shape.length - x.ndim;
    x.shape.forEach((d, i) => check(d === 1 || d === shape[off + i], () => `cannot expand [${x.shape}] to [${shape}]`));
    return { shape: [...shape] };
  },
  emit: (ctx, [x], { shape }) => ctx.node('Expand', [x, ctx.int64s(shape)]),
});
