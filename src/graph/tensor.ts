import type { OpDef } from './op.ts';
import { numel } from '../io/state-dict.ts';

export type DType = 'float32' | 'int64';
export type TensorData = Float32Array | BigInt64Array;
export type Attrs = Record<string, unknown>;
export type LeafKind = 'data' | 'constant' | 'state';

let nextId = 0;

/**
 * A node of the lazy graph. A tensor is either a leaf that holds its value (data fed by the user,
 * a parameter, a buffer, a constant) or the result of an op on other tensors. Nothing is computed
 * until `data()` is awaited: then everything it depends on is traced into one ONNX graph and run
 * by ONNX Runtime, so the whole network executes in native code as one session.
 */
export class Tensor {
  readonly id = nextId++;
  readonly shape: readonly number[];
  readonly dtype: DType;
  readonly op: OpDef | null;
  readonly inputs: readonly Tensor[];
  readonly attrs: Attrs;
  /** The module path that produced it (`layer1.0.conv2`), for errors and ONNX node names. */
  readonly scope: string;
  /** Leaves only: the host value. Results get one once they have been computed. */
  value: TensorData | null;
  /**
   * Leaves only. 'data' is fed at run time; 'constant' is baked into the graph and is part of its
   * identity; 'state' (parameters, buffers) is baked while it is frozen and fed while it trains.
   */
  readonly leafKind: LeafKind;
  /** Bumped on every in-place change of `value`, so compiled sessions holding it as an initializer are refreshed. */
  version = 0;
  /** Gradient, filled by `backward()` for leaves that require it. */
  grad: Tensor | null = null;
  protected _requiresGrad = false;

  constructor(init: {
    shape: readonly number[]; dtype: DType; op?: OpDef | null; inputs?: readonly Tensor[];
    attrs?: Attrs; value?: TensorData | null; leafKind?: LeafKind; scope?: string;
  }) {
    this.shape = Object.freeze([...init.shape]);
    this.dtype = init.dtype;
    this.op = init.op ?? null;
    this.inputs = init.inputs ?? [];
    this.attrs = init.attrs ?? {};
    this.value = init.value ?? null;
    this.leafKind = init.leafKind ?? 'data';
    this.scope = init.scope ?? '';
  }

  get isLeaf(): boolean { return this.op === null; }
  get ndim(): number { return this.shape.length; }
  get size(): number { return numel(this.shape); }

  get requiresGrad(): boolean { return this._requiresGrad; }
  set requiresGrad(v: boolean) {
    if (!this.isLeaf) throw new Error('requiresGrad can only be set on leaf tensors (parameters or inputs), not on the result of an op');
    this._requiresGrad = v;
  }

  /** Computes the tensor (and everything it depends on) and returns its values. */
  async data(): Promise<TensorData> {
    if (this.value) return this.value;
    const { realize } = await import('../runtime/realize.ts');
    await realize([this]);
    return this.value!;
  }

  /**
   * Computes the gradients of this scalar (a loss) with respect to every parameter or input it
   * depends on that requires grad, in the same run as the loss itself, and adds them to their
   * `.grad`, as PyTorch's `loss.backward()`.
   */
  async backward(gradient?: Tensor): Promise<void> {
    const { backward } = await import('../autodiff/engine.ts');
    await backward(this, gradient);
  }

  /** Float values as a Float32Array; throws for int64 tensors. */
  async floats(): Promise<Float32Array> {
    const v = await this.data();
    if (!(v instanceof Float32Array)) throw new TypeError(`Expected a float32 tensor but this one is ${this.dtype}`);
    return v;
  }

  /** Nested arrays of numbers, as torch's `tolist()`. */
  async tolist(): Promise<unknown> {
    const v = await this.data();
    const flat = Array.from(v as ArrayLike<number | bigint>, Number);
    const nest = (dims: readonly number[], offset: number): unknown => {
      if (dims.length === 0) return flat[offset];
      const stride = numel(dims.slice(1));
      return Array.from({ length: dims[0] }, (_, i) => nest(dims.slice(1), offset + i * stride));
    };
    return nest(this.shape, 0);
  }

  /** A scalar's value. */
  async item(): Promise<number> {
    if (this.size !== 1) throw new RangeError(`item() needs a tensor with one element, this one has shape [${this.shape}]`);
    return Number((await this.data())[0]);
  }

  toString(): string {
    return `Tensor(shape=[${this.shape}], dtype=${this.dtype}${this.op ? `, op=${this.op.name}` : ''})`;
  }
}

/** A host value as a tensor fed to the graph at run time. */
export function tensor(data: TensorData | number[], shape?: readonly number[]): Tensor {
  const value = Array.isArray(data) ? Float32Array.from(data) : data;
  const dims = shape ?? [value.length];
  if (numel(dims) !== value.length) {
    throw new RangeError(`Expected ${numel(dims)} values for shape [${dims}] but received ${value.length}`);
  }
  const dtype: DType = value instanceof BigInt64Array ? 'int64' : 'float32';
  return new Tensor({ shape: dims, dtype, value });
}

/** A value baked into the graph (small tables, scalars): part of the compiled graph's identity. */
export function constant(data: TensorData | number[], shape?: readonly number[]): Tensor {
  const value = Array.isArray(data) ? Float32Array.from(data) : data;
  const dtype: DType = value instanceof BigInt64Array ? 'int64' : 'float32';
  return new Tensor({ shape: shape ?? [value.length], dtype, value, leafKind: 'constant' });
}

export function scalar(v: number): Tensor {
  return constant(Float32Array.of(v), []);
}

/** Class labels as an int64 tensor. */
export function labels(values: ArrayLike<number>): Tensor {
  return tensor(BigInt64Array.from(Array.from(values, (v) => BigInt(v))), [values.length]);
}

// Chained methods, as torch.Tensor has them. They live on the prototype so the class file stays
// about what a tensor is; the functions are in functional.ts.
import * as T from './functional.ts';
type Operand = Tensor | number;
declare module './tensor.ts' {
  interface Tensor {
    add(other: Operand): Tensor; sub(other: Operand): Tensor; mul(other: Operand): Tensor; div(other: Operand): Tensor;
    neg(): Tensor; exp(): Tensor; log(): Tensor; sqrt(): Tensor; relu(): Tensor; sigmoid(): Tensor;
    matmul(other: Tensor): Tensor; reshape(...shape: number[]): Tensor; view(...shape: number[]): Tensor;
    flatten(startDim?: number, endDim?: number): Tensor; transpose(dim0: number, dim1: number): Tensor;
    sum(dim?: number | number[], keepdim?: boolean): Tensor; mean(dim?: number | number[], keepdim?: boolean): Tensor;
    softmax(dim: number): Tensor; logSoftmax(dim: number): Tensor; clamp(min: number, max: number): Tensor;
  }
}
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
  reshape(this: Tensor, ...s: number[]) { return T.reshape(this, s); },
  view(this: Tensor, ...s: number[]) { return T.reshape(this, s); },
  flatten(this: Tensor, s?: number, e?: number) { return T.flatten(this, s, e); },
  transpose(this: Tensor, a: number, b: number) { return T.transpose(this, a, b); },
  sum(this: Tensor, d?: number | number[], k?: boolean) { return T.sum(this, d, k); },
  mean(this: Tensor, d?: number | number[], k?: boolean) { return T.mean(this, d, k); },
  softmax(this: Tensor, d: number) { return T.softmax(this, d); },
  logSoftmax(this: Tensor, d: number) { return T.logSoftmax(this, d); },
  clamp(this: Tensor, lo: number, hi: number) { return T.clamp(this, lo, hi); },
});
