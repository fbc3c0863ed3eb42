import { Tensor, type Attrs, type DType } from './tensor.ts';
import { currentScope } from './scope.ts';
import { ShapeError, ShapeMismatch } from './errors.ts';
import type { EmitContext } from './emit.ts';

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
   * gradient of the output. Absent for ops that are never differentiated (e.g. argmax).
   */
  grad?(g: Tensor, out: Tensor, inputs: readonly Tensor[], attrs: A): (Tensor | null)[];
}

const registry = new Map<string, OpDef>();

export function defineOp<A extends Attrs>(def: OpDef<A>): OpDef<A> {
  if (registry.has(def.name)) throw new Error(`Op "${def.name}" is defined twice`);
  registry.set(def.name, def);
  return def;
}

export function registeredOps(): ReadonlyMap<string, OpDef> {
  return registry;
}

/** Records `op(inputs)` in the graph after checking that the shapes fit. */
export function apply<A extends Attrs>(op: OpDef<A>, inputs: readonly Tensor[], attrs: A): Tensor {
  const scope = currentScope();
  let out: { shape: number[]; dtype?: DType };
  try {
    out = op.shape(inputs, attrs);
  } catch (e) {
    if (e instanceof ShapeMismatch) throw new ShapeError(op.name, scope, e.message, inputs.map((t) => t.shape));
    throw e;
  }
  return new Tensor({ shape: out.shape, dtype: out.dtype ?? inputs[0].dtype, op, inputs, attrs, scope });
}
