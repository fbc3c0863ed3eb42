import { apply, defineOp, type OpDef } from '../op.ts';
import { check } from '../errors.ts';
import { int, ints } from '../emit.ts';
import { numel } from '../tensor.ts';

/**
 * For graphs that run at any batch size: a target shape whose first dimension is the input's
 * (the batch, in every network graft builds) says so with `asInput` (0 for Reshape, 1 for
 * Expand) instead of the traced size. Exact at the traced size whatever dimension 0 means; a
 * target that mixes the batch into other dimensions stays concrete, and the exported graph's
 * check at other batch sizes reports it.
 */
function batchAsInput(input: readonly number[], target: readonly number[], asInput: 0 | 1): readonly number[] {
  const sameFirst = input.length === target.length || asInput === 0;
  return sameFirst && input.length > 0 && target.length > 0 && input[0] === target[0] ? [asInput, ...target.slice(1)] : target;
}

/** A view with another shape holding the same values in the same order. */
export const reshape: OpDef<{ shape: number[] }> = defineOp<{ shape: number[] }>({
  name: 'reshape',
  shape: ([x], { shape }) => {
    check(shape.every((d) => Number.isInteger(d) && d >= 0), () => `target shape [${shape}] must be concrete (resolve -1 before)`);
    check(numel(shape) === x.size, () => `cannot reshape ${x.size} values into [${shape}]`);
    return { shape: [...shape] };
  },
  emit: (ctx, [x], { shape }, out) => ctx.node('Reshape', [x, ctx.int64s(ctx.symbolicBatch ? batchAsInput(out.inputs[0].shape, shape, 0) : shape)]),
  grad: (g, _out, [x]) => [g.reshape(x.shape)],
});

export const transpose: OpDef<{ perm: number[] }> = defineOp<{ perm: number[] }>({
  name: 'transpose',
  shape: ([x], { perm }) => {
    check(perm.length === x.ndim && [...perm].sort().every((p, i) => p === i), () => `perm [${perm}] is not a permutation of ${x.ndim} axes`);
    return { shape: perm.map((p) => x.shape[p]) };
  },
  emit: (ctx, [x], { perm }) => ctx.node('Transpose', [x], { perm: ints(perm) }),
  grad: (g, _out, _inputs, { perm }) => {
    const inverse = perm.map((_, i) => perm.indexOf(i));
    return [apply(transpose, [g], { perm: inverse })];
  },
});

export const concat: OpDef<{ axis: number }> = defineOp<{ axis: number }>({
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
  grad: (g, _out, xs, { axis }) => {
    let start = 0;
    return xs.map((x) => {
      const end = start + x.shape[axis];
      const part = apply(slice, [g], { axis, start, end });
      start = end;
      return part;
    });
  },
});

/** x[..., start:end, ...] along one axis, step 1. */
export const slice: OpDef<{ axis: number; start: number; end: number }> = defineOp<{ axis: number; start: number; end: number }>({
  name: 'slice',
  shape: ([x], { axis, start, end }) => {
    check(axis >= 0 && axis < x.ndim, () => `axis ${axis} is out of range for a ${x.ndim}-D input`);
    check(0 <= start && start <= end && end <= x.shape[axis], () => `range ${start}:${end} is outside 0:${x.shape[axis]}`);
    const shape = [...x.shape];
    shape[axis] = end - start;
    return { shape };
  },
  emit: (ctx, [x], { axis, start, end }) => ctx.node('Slice', [x, ctx.int64s([start]), ctx.int64s([end]), ctx.int64s([axis])]),
  grad: (g, _out, [x], { axis, start, end }) => {
    const before = x.shape.map(() => 0);
    const after = x.shape.map(() => 0);
    before[axis] = start;
    after[axis] = x.shape[axis] - end;
    return [apply(pad, [g], { before, after })];
  },
});

/** Zero padding: `before[i]` zeros ahead of axis i and `after[i]` behind it. */
export const pad: OpDef<{ before: number[]; after: number[] }> = defineOp<{ before: number[]; after: number[] }>({
  name: 'pad',
  shape: ([x], { before, after }) => {
    check(before.length === x.ndim && after.length === x.ndim, () => `expected ${x.ndim} pads per side but received [${before}] and [${after}]`);
    check([...before, ...after].every((p) => Number.isInteger(p) && p >= 0), () => `pads [${before}] and [${after}] must be integers >= 0`);
    return { shape: x.shape.map((d, i) => d + before[i] + after[i]) };
  },
  emit: (ctx, [x], { before, after }) => ctx.node('Pad', [x, ctx.int64s([...before, ...after])]),
  grad: (g, _out, [x], { before }) => {
    let part = g;
    x.shape.forEach((d, axis) => {
      if (part.shape[axis] !== d) part = apply(slice, [part], { axis, start: before[axis], end: before[axis] + d });
    });
    return [part];
  },
});

/** Repeats size-1 dimensions to the target shape. */
export const expand: OpDef<{ shape: number[] }> = defineOp<{ shape: number[] }>({
  name: 'expand',
  shape: ([x], { shape }) => {
    check(shape.length >= x.ndim, () => `cannot expand [${x.shape}] to fewer dimensions [${shape}]`);
    const off = shape.length - x.ndim;
    x.shape.forEach((d, i) => check(d === 1 || d === shape[off + i], () => `cannot expand [${x.shape}] to [${shape}]`));
    return { shape: [...shape] };
  },
  // Expand broadcasts: a 1 in the target keeps the input's own size there.
  emit: (ctx, [x], { shape }, out) => ctx.node('Expand', [x, ctx.int64s(ctx.symbolicBatch ? batchAsInput(out.inputs[0].shape, shape, 1) : shape)]),
  // Expanding is broadcasting: the walker sums the gradient back to the input's shape.
  grad: (g) => [g],
});
