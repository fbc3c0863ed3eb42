/** An op was given inputs whose shapes or types it cannot take. Names the op, the module and the shapes. */
export class ShapeError extends Error {
  constructor(readonly op: string, readonly scope: string, readonly detail: string, readonly shapes: readonly (readonly number[])[]) {
    super(`${op}${scope ? ` in ${scope}` : ''}: ${detail} (input shapes: ${shapes.map((s) => `[${s.join(', ')}]`).join(', ')})`);
    this.name = 'ShapeError';
  }
}

/** Thrown by shape rules; `apply` adds the op name, module path and shapes. */
export class ShapeMismatch extends Error {}

export function check(condition: boolean, detail: string | (() => string)): asserts condition {
  if (!condition) throw new ShapeMismatch(typeof detail === 'string' ? detail : detail());
}
