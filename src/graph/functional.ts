import { Tensor, scalar } from './tensor.ts';
import { apply } from './op.ts';
import * as ops from './ops/index.ts';
import { check } from './errors.ts';
import { ShapeError, ShapeMismatch } from './errors.ts';
import { currentScope } from './scope.ts';

/**
 * Tensor-level operations, as torch.* functions. Numbers broadcast as scalars. Convenience ops are
 * written through primitives (`a - b` is Sub, `x.mean()` is ReduceMean) so only primitives need
 * gradient rules.
 */
type Operand = Tensor | number;
const lift = (v: Operand): Tensor => (typeof v === 'number' ? scalar(v) : v);

export const add = (a: Operand, b: Operand) => apply(ops.add, [lift(a), lift(b)], {});
export const sub = (a: Operand, b: Operand) => apply(ops.sub, [lift(a), lift(b)], {});
export const mul = (a: Operand, b: Operand) => apply(ops.mul, [lift(a), lift(b)], {});
export const div = (a: Operand, b: Operand) => apply(ops.div, [lift(a), lift(b)], {});
export const neg = (x: Tensor) => apply(ops.neg, [x], {});
export const exp = (x: Tensor) => apply(ops.exp, [x], {});
export const log = (x: Tensor) => apply(ops.log, [x], {});
export const sqrt = (x: Tensor) => apply(ops.sqrt, [x], {});
export const abs = (x: Tensor) => apply(ops.abs, [x], {});
export const relu = (x: Tensor) => apply(ops.relu, [x], {});
export const sigmoid = (x: Tensor) => apply(ops.sigmoid, [x], {});
export const clamp = (x: Tensor, min: number, max: number) => apply(ops.clip, [x], { min, max });
export const matmul = (a: Tensor, b: Tensor, attrs: ops.MatmulAttrs = {}) => apply(ops.matmul, [a, b], attrs);

/** Resolves a negative axis the way PyTorch does, with an error naming the valid range. */
export function normAxis(axis: number, ndim: number, op: string): number {
  const a = axis < 0 ? axis + ndim : axis;
  if (!(Number.isInteger(axis) && a >= 0 && a < ndim)) {
    throw new ShapeError(op, currentScope(), `dim ${axis} is out of range [${-ndim}, ${ndim - 1}]`, []);
  }
  return a;
}

function axesOf(x: Tensor, dim: number | number[] | undefined, op: string): number[] {
  if (dim === undefined) return x.shape.map((_, i) => i);
  return (Array.isArray(dim) ? dim : [dim]).map((d) => normAxis(d, x.ndim, op));
}

export const sum = (x: Tensor, dim?: number | number[], keepdim = false) =>
  apply(ops.reduceSum, [x], { axes: axesOf(x, dim, 'sum'), keepdim });
export const mean = (x: Tensor, dim?: number | number[], keepdim = false) =>
  apply(ops.reduceMean, [x], { axes: axesOf(x, dim, 'mean'), keepdim });
export const amax = (x: Tensor, dim?: number | number[], keepdim = false) =>
  apply(ops.reduceMax, [x], { axes: axesOf(x, dim, 'amax'), keepdim });
export const softmax = (x: Tensor, dim: number) => apply(ops.softmax, [x], { axis: normAxis(dim, x.ndim, 'softmax') });
export const logSoftmax = (x: Tensor, dim: number) => apply(ops.logSoftmax, [x], { axis: normAxis(dim, x.ndim, 'log_softmax') });

/** Reshape; one dimension may be -1 and is inferred, as in PyTorch. */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  const known = shape.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
  const free = shape.filter((d) => d === -1).length;
  if (free > 1 || (free === 1 && (known === 0 || x.size % known !== 0))) {
    throw new ShapeError('reshape', currentScope(), `cannot reshape ${x.size} values into [${shape}]`, [x.shape]);
  }
  const resolved = shape.map((d) => (d === -1 ? x.size / known : d));
  if (resolved.length === x.ndim && resolved.every((d, i) => d === x.shape[i])) return x;
  return apply(ops.reshape, [x], { shape: resolved });
}

/** torch.flatten(x, startDim, endDim). */
export function flatten(x: Tensor, startDim = 0, endDim = -1): Tensor {
  const s = normAxis(startDim, x.ndim, 'flatten');
  const e = normAxis(endDim, x.ndim, 'flatten');
  if (s > e) throw new ShapeError('flatten', currentScope(), `startDim ${startDim} comes after endDim ${endDim}`, [x.shape]);
  const merged = x.shape.slice(s, e + 1).reduce((a, b) => a * b, 1);
  return reshape(x, [...x.shape.slice(0, s), merged, ...x.shape.slice(e + 1)]);
}

export function transpose(x: Tensor, dim0: number, dim1: number): Tensor {
  const perm = x.shape.map((_, i) => i);
  const a = normAxis(dim0, x.ndim, 'transpose');
  const b = normAxis(dim1, x.ndim, 'transpose');
  [perm[a], perm[b]] = [perm[b], perm[a]];
  return apply(ops.transpose, [x], { perm });
}

export const permute = (x: Tensor, perm: number[]) => apply(ops.transpose, [x], { perm: perm.map((p) => normAxis(p, x.ndim, 'permute')) });

export function cat(xs: readonly Tensor[], dim = 0): Tensor {
  if (xs.length === 0) throw new ShapeError('cat', currentScope(), 'expected a non-empty list of tensors', []);
  return apply(ops.concat, xs, { axis: normAxis(dim, xs[0].ndim, 'cat') });
}

/** x.narrow(dim, start, length). */
export function narrow(x: Tensor, dim: number, start: number, length: number): Tensor {
  const axis = normAxis(dim, x.ndim, 'narrow');
  return apply(ops.slice, [x], { axis, start, end: start + length });
}

/**
 * Zero padding, as torch.nn.functional.pad: `pads` holds (before, after) pairs starting from the
 * last dimension, so `[left, right, top, bottom]` pads the width then the height of NCHW.
 */
export function pad(x: Tensor, pads: readonly number[]): Tensor {
  if (pads.length % 2 !== 0 || pads.length > 2 * x.ndim) {
    throw new ShapeError('pad', currentScope(), `expected an even number of pads, at most ${2 * x.ndim}, but received [${pads}]`, [x.shape]);
  }
  const before = x.shape.map(() => 0);
  const after = x.shape.map(() => 0);
  for (let i = 0; i < pads.length / 2; i++) {
    before[x.ndim - 1 - i] = pads[2 * i];
    after[x.ndim - 1 - i] = pads[2 * i + 1];
  }
  return apply(ops.pad, [x], { before, after });
}

/**
 * table[index] along the first axis with an index array fixed at build time, as PyTorch's
 * `table[index]` reads a relative position bias table: the result has shape
 * [...indexShape, ...table.shape.slice(1)].
 */
export function indexSelect(table: Tensor, indices: readonly number[], indexShape: readonly number[] = [indices.length]): Tensor {
  return apply(ops.gatherRows, [table], { indices: [...indices], indexShape: [...indexShape] });
}

/** torch.roll along one axis: element i moves to (i + shift) mod size. */
export function roll(x: Tensor, shift: number, dim: number): Tensor {
  const axis = normAxis(dim, x.ndim, 'roll');
  const size = x.shape[axis];
  const s = ((shift % size) + size) % size;
  if (s === 0) return x;
  return cat([narrow(x, axis, size - s, s), narrow(x, axis, 0, size - s)], axis);
}

/** torch.nn.functional.normalize(x, p=2, dim, eps): each vector along `dim` divided by max(its L2 norm, eps). */
export const normalize = (x: Tensor, dim = 1, eps = 1e-12) => apply(ops.l2Normalize, [x], { axis: normAxis(dim, x.ndim, 'normalize'), eps });

export function expand(x: Tensor, shape: readonly number[]): Tensor {
  return apply(ops.expand, [x], { shape: [...shape] });
}

export { check, ShapeMismatch };
