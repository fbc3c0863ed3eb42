import { Tensor } from './tensor.ts';
import * as T from './functional.ts';

/**
 * Chained methods, as torch.Tensor has them (`x.add(y).relu()`). They live on the prototype so
 * tensor.ts stays about what a tensor is and the functions stay in functional.ts. Gradient rules
 * are written with them; the autodiff walker and nn load this file before anything runs.
 */
type Operand = Tensor | number;
/** A shape given as numbers or as one array, as torch accepts both `x.view(2, 3)` and `x.view((2, 3))`. */
type ShapeArgs = [readonly number[]] | number[];

declare module './tensor.ts' {
  interface Tensor {
    add(other: Operand): Tensor; sub(other: Operand): Tensor; mul(other: Operand): Tensor; div(other: Operand): Tensor;
    neg(): Tensor; exp(): Tensor; log(): Tensor; sqrt(): Tensor; relu(): Tensor; sigmoid(): Tensor;
    matmul(other: Tensor): Tensor; reshape(...shape: ShapeArgs): Tensor; view(...shape: ShapeArgs): Tensor;
    expand(...shape: ShapeArgs): Tensor;
    flatten(startDim?: number, endDim?: number): Tensor; transpose(dim0: number, dim1: number): Tensor;
    sum(dim?: number | number[], keepdim?: boolean): Tensor; mean(dim?: number | number[], keepdim?: boolean): Tensor;
    softmax(dim: number): Tensor; logSoftmax(dim: number): Tensor; clamp(min: number, max: number): Tensor;
  }
}

const shapeOf = (s: ShapeArgs): readonly number[] => (Array.isArray(s[0]) ? s[0] : (s as number[]));

Object.assign(Tensor.prototype, {
  add(this: Tensor, o: Operand) { return T.add(this, o); },
  sub(this: Tensor, o: Operand) { return T.sub(this, o); },
  mul(this: Tensor, o: Operand) { return T.mul(this, o); },
  div(this: Tensor, o: Operand) { return T.div(this, o); },
  neg(this: Tensor) { return T.neg(this); },
  exp(this: Tensor) { return T.exp(this); },
  log(this: Tensor) { return T.log(this); },
  sqrt(this: Tensor) { return T.sqrt(this); },
  relu(this: Tensor) { return T.relu(this); },
  sigmoid(this: Tensor) { return T.sigmoid(this); },
  matmul(this: Tensor, o: Tensor) { return T.matmul(this, o); },
  reshape(this: Tensor, ...s: ShapeArgs) { return T.reshape(this, shapeOf(s)); },
  view(this: Tensor, ...s: ShapeArgs) { return T.reshape(this, shapeOf(s)); },
  expand(this: Tensor, ...s: ShapeArgs) { return T.expand(this, shapeOf(s)); },
  flatten(this: Tensor, s?: number, e?: number) { return T.flatten(this, s, e); },
  transpose(this: Tensor, a: number, b: number) { return T.transpose(this, a, b); },
  sum(this: Tensor, d?: number | number[], k?: boolean) { return T.sum(this, d, k); },
  mean(this: Tensor, d?: number | number[], k?: boolean) { return T.mean(this, d, k); },
  softmax(this: Tensor, d: number) { return T.softmax(this, d); },
  logSoftmax(this: Tensor, d: number) { return T.logSoftmax(this, d); },
  clamp(this: Tensor, lo: number, hi: number) { return T.clamp(this, lo, hi); },
});
