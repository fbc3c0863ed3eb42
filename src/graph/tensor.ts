import { invalidParameter, received } from '../errors/index.ts';
import type { DType, TensorData } from './dtype.ts';
import type { EmitContext } from './emit.ts';

export type { DType, TensorData };

export type Attrs = Record<string, unknown>;
export type LeafKind = 'data' | 'constant' | 'state';
export interface SideOutput {
  readonly tensors: readonly Tensor[];
  readonly onValues: (values: TensorData[]) => void;
  /** Set once the values were handed over: a rewritten copy of the anchor does not hand them again. */
  delivered?: boolean;
}

/**
 * Everything graft knows about one op, side by side: its shape rule, its ONNX emission and its
 * gradient rule. Adding an op means writing one of these and nothing else.
 */
export interface OpDef<A extends Attrs = any> {
  readonly name: string;
  /** Output shape and dtype from the inputs; throws ShapeMismatch (via `check`) when they don't fit. */
  shape(inputs: readonly Tensor[], attrs: A): { shape: number[]; dtype?: DType };
  /** Appends ONNX nodes computing the output from the named inputs; returns the output's name. */
  emit(ctx: EmitContext, inputs: readonly string[], attrs: A, out: Tensor): string;
  /**
   * One gradient per input (null where the input needs none), built from other ops, given the
   * gradient of the output. Absent for ops that are never differentiated (e.g. argmax). Rules are
   * written with tensors' chained methods (`g.mul(b)`, tensor-methods.ts), which the autodiff
   * walker loads; they see only their own op, and rewrites that look across ops are passes
   * (autodiff/rewrites).
   */
  grad?(g: Tensor, out: Tensor, inputs: readonly Tensor[], attrs: A): (Tensor | null)[];
}

let nextId = 0;

export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/**
 * A node of the lazy graph. A tensor is either a leaf that holds its value (data fed by the user,
 * a parameter, a buffer, a constant) or the result of an op on other tensors. Nothing is computed
 * until `data()` is awaited: then everything it depends on is traced into one ONNX graph and run
 * by ONNX Runtime, so the whole network executes in native code as one session.
 *
 * This file is what a tensor is. Its chained ops (`x.add(y)`) are added by tensor-methods.ts, and
 * `data()` and `backward()` by the runtime (runtime/tensor-values.ts, runtime/backward.ts), so the
 * graph layer needs nothing above it.
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
  /**
   * Values to fetch in the same run whenever this tensor is computed, handed to `onValues` once
   * (batch norm's batch statistics, for its running averages). They live on the forward value they
   * come with, so a forward that is never run is simply collected, and no other run sees them.
   */
  sideOutputs: SideOutput[] | null = null;
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

  toString(): string {
    return `Tensor(shape=[${this.shape}], dtype=${this.dtype}${this.op ? `, op=${this.op.name}` : ''})`;
  }
}

/** A host value as a tensor fed to the graph at run time. */
export function tensor(data: TensorData | number[], shape?: readonly number[]): Tensor {
  const value = Array.isArray(data) ? Float32Array.from(data) : data;
  const dims = shape ?? [value.length];
  if (numel(dims) !== value.length) {
    throw invalidParameter(`shape [${dims}]`, `${numel(dims)} values`, received(`${value.length} values`));
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
