import { Tensor, type Attrs, type DType, type OpDef } from './tensor.ts';
import { currentScope } from './scope.ts';
import { ShapeError, ShapeMismatch } from './errors.ts';

export type { OpDef };

const registry = new Map<string, OpDef>();

export function defineOp<A extends Attrs>(def: OpDef<A>): OpDef<A> {
  if (registry.has(def.name)) throw new Error(`Op "${def.name}" is defined twice`);
  registry.set(def.name, def);
  return def;
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
  // A copy: a caller's array (DenseNet's growing list of features) may change after the call.
  return new Tensor({ shape: out.shape, dtype: out.dtype ?? inputs[0].dtype, op, inputs: [...inputs], attrs, scope });
}
