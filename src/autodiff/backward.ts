import { Tensor, constant } from '../graph/tensor.ts';
import { atScope } from '../graph/scope.ts';
import * as T from '../graph/functional.ts';
import { gradientRewrites, rewriteGraph, type GraphRewrite } from './rewrites/index.ts';
// Gradient rules are written with tensors' chained methods.
import '../graph/tensor-methods.ts';

/** An op on the path to a requested leaf has no gradient rule, or a rule returned a wrong shape. */
export class GradientError extends Error {
  constructor(readonly op: string, readonly scope: string, detail: string) {
    super(`${op}${scope ? ` in ${scope}` : ''}: ${detail}`);
    this.name = 'GradientError';
  }
}

/**
 * The ops between `target` and the leaves we want gradients for, in topological order: only
 * nodes from which a wanted leaf can be reached, so frozen parts of a network cost nothing.
 */
function pathNodes(target: Tensor, wanted: (t: Tensor) => boolean): { order: Tensor[]; leads: Map<Tensor, boolean> } {
  const leads = new Map<Tensor, boolean>();
  const order: Tensor[] = [];
  // Iterative post-order: deep networks make recursion risky.
  const stack: [Tensor, boolean][] = [[target, false]];
  while (stack.length) {
    const [t, expanded] = stack.pop()!;
    if (leads.has(t)) continue;
    if (t.op === null) {
      leads.set(t, wanted(t));
    } else if (expanded) {
      const reaches = wanted(t) || t.inputs.some((i) => leads.get(i));
      leads.set(t, reaches);
      if (reaches) order.push(t);
    } else {
      stack.push([t, true]);
      for (let i = t.inputs.length - 1; i >= 0; i--) if (!leads.has(t.inputs[i])) stack.push([t.inputs[i], false]);
    }
  }
  return { order, leads };
}

/** Every tensor `target` is computed from, itself included. */
function graphOf(target: Tensor): Set<Tensor> {
  const seen = new Set<Tensor>([target]);
  const stack = [target];
  while (stack.length) {
    for (const i of stack.pop()!.inputs) {
      if (!seen.has(i)) {
        seen.add(i);
        stack.push(i);
      }
    }
  }
  return seen;
}

/** Sums a gradient computed at a broadcast shape back to the shape of the input it belongs to. */
export function unbroadcast(g: Tensor, shape: readonly number[]): Tensor {
  if (g.ndim === shape.length && g.shape.every((d, i) => d === shape[i])) return g;
  const extra = g.ndim - shape.length;
  const axes: number[] = [];
  g.shape.forEach((d, i) => {
    if (i < extra || (shape[i - extra] === 1 && d !== 1)) axes.push(i);
  });
  const summed = axes.length ? T.sum(g, axes, true) : g;
  return T.reshape(summed, shape);
}

export interface GradientOptions {
  /**
   * Rewrites of the finished gradient graph, applied in order (autodiff/rewrites): all of
   * `gradientRewrites` by default, none with `[]`. They are exact, so this changes speed only.
   */
  rewrites?: readonly GraphRewrite[];
}

/**
 * Reverse-mode differentiation of `target` (seeded with `seed`, ones by default) with respect to
 * the tensors for which `wanted` is true: a map from each of those the target depends on to its
 * gradient. Builds the gradients as lazy graph nodes, one rule per op (each op's `grad`), summing
 * where a tensor feeds several ops, then rewrites the finished graph (`options.rewrites`). Nothing
 * is computed here.
 */
export function gradients(target: Tensor, wanted: (t: Tensor) => boolean, seed?: Tensor, options: GradientOptions = {}): Map<Tensor, Tensor> {
  if (target.dtype !== 'float32') throw new TypeError(`Can only differentiate float32 tensors but the target is ${target.dtype}`);
  const grads = new Map<Tensor, Tensor>();
  grads.set(target, seed ?? T.expand(constant(Float32Array.of(1), []), target.shape));
  const { order: nodes, leads } = pathNodes(target, wanted);
  for (let k = nodes.length - 1; k >= 0; k--) {
    const t = nodes[k];
    const g = grads.get(t);
    if (!g) continue;
    const op = t.op!;
    if (!op.grad) {
      throw new GradientError(op.name, t.scope, `no gradient rule for op "${op.name}"; it is on the path from the loss to a tensor that requires grad`);
    }
    // Gradient ops carry the scope of the op they differentiate, for errors and ONNX node names.
    const inputGrads = atScope(t.scope, () => op.grad!(g, t, t.inputs, t.attrs));
    t.inputs.forEach((input, i) => {
      const gi = inputGrads[i];
      if (!gi || input.dtype !== 'float32') return;
      if (!leads.get(input)) return;
      const fitted = unbroadcastChecked(gi, input, op.name, t.scope, i);
      const prev = grads.get(input);
      grads.set(input, prev ? T.add(prev, fitted) : fitted);
    });
  }
  const found = [...grads].filter(([t]) => wanted(t));
  const forward = graphOf(target);
  const rewritten = rewriteGraph(found.map(([, g]) => g), options.rewrites ?? gradientRewrites, (t) => forward.has(t));
  return new Map(found.map(([t], i) => [t, rewritten[i]]));
}

function unbroadcastChecked(g: Tensor, input: Tensor, op: string, scope: string, index: number): Tensor {
  try {
    return unbroadcast(g, input.shape);
  } catch {
    throw new GradientError(op, scope, `the gradient rule returned shape [${g.shape}] for input ${index} of shape [${input.shape}]`);
  }
}
