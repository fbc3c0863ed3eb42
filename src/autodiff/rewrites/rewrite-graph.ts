import { Tensor } from '../../graph/tensor.ts';
import { atScope } from '../../graph/scope.ts';

/**
 * What a rewrite may ask about the graph it rewrites. Patterns are matched on that graph as it
 * was built; replacements are built from `current` forms, which replacements made earlier in the
 * same sweep may have changed.
 */
export interface RewriteContext {
  /** The rewritten form of a tensor of the graph (the tensor itself when nothing below it changed). */
  current(t: Tensor): Tensor;
  /**
   * Whether `t` is used only by nodes of the graph that `accept` (given the node and which of its
   * inputs `t` is), and is not one of the results: then a rewrite that replaces all those uses
   * leaves `t` unused, and it is never computed.
   */
  usedOnlyBy(t: Tensor, accept: (reader: Tensor, inputIndex: number) => boolean): boolean;
  /**
   * Whether `t` is a value of the differentiated graph itself (the forward pass), rather than one
   * the gradient rules built.
   */
  inForward(t: Tensor): boolean;
}

/**
 * One rewrite: given a node of the graph, a tensor computing the same value to take its place
 * (built with ops as usual; it gets the node's scope), or null to leave the node as it is.
 * Rewrites must be exact: switching one off changes speed, never values beyond float rounding.
 */
export type GraphRewrite = (node: Tensor, graph: RewriteContext) => Tensor | null;

/**
 * Applies `rewrites` in order, each in one sweep over everything the roots depend on, and returns
 * the roots' rewritten forms. Tensors are immutable, so a node is rebuilt only when it is replaced
 * or something below it changed, once, keeping its scope; leaves and values already computed are
 * left alone (a trace reads those as they are).
 */
export function rewriteGraph(roots: readonly Tensor[], rewrites: readonly GraphRewrite[], inForward: (t: Tensor) => boolean = () => false): Tensor[] {
  let current = [...roots];
  for (const rewrite of rewrites) current = sweep(current, rewrite, inForward);
  return current;
}

/** Stops the walk: nothing below is part of the graph to rewrite. */
function isBoundary(t: Tensor): boolean {
  return t.op === null || t.value !== null;
}

interface Use { readonly reader: Tensor; readonly inputIndex: number }

/** The graph below the roots in topological order, with the uses of each tensor. */
function collect(roots: readonly Tensor[]): { order: Tensor[]; uses: Map<Tensor, Use[]> } {
  const order: Tensor[] = [];
  const uses = new Map<Tensor, Use[]>();
  const seen = new Set<Tensor>();
  // Iterative post-order: deep networks make recursion risky.
  const stack: [Tensor, boolean][] = roots.map((r) => [r, false]);
  stack.reverse();
  while (stack.length) {
    const [t, expanded] = stack.pop()!;
    if (expanded) {
      order.push(t);
      t.inputs.forEach((input, inputIndex) => {
        const list = uses.get(input) ?? [];
        list.push({ reader: t, inputIndex });
        uses.set(input, list);
      });
      continue;
    }
    if (seen.has(t)) continue;
    seen.add(t);
    if (isBoundary(t)) continue;
    stack.push([t, true]);
    for (let i = t.inputs.length - 1; i >= 0; i--) if (!seen.has(t.inputs[i])) stack.push([t.inputs[i], false]);
  }
  return { order, uses };
}

function sweep(roots: readonly Tensor[], rewrite: GraphRewrite, inForward: (t: Tensor) => boolean): Tensor[] {
  const { order, uses } = collect(roots);
  const results = new Set(roots);
  const replaced = new Map<Tensor, Tensor>();
  const current = (t: Tensor) => replaced.get(t) ?? t;
  const graph: RewriteContext = {
    current,
    usedOnlyBy: (t, accept) => !results.has(t) && (uses.get(t) ?? []).every((u) => accept(u.reader, u.inputIndex)),
    inForward,
  };
  const graphNodes = new Set(order);
  const built = new Interner((t) => graphNodes.has(t));
  for (const node of order) {
    const replacement = atScope(node.scope, () => rewrite(node, graph));
    let next: Tensor | null = null;
    if (replacement && replacement !== node) next = built.intern(replacement);
    else if (node.inputs.some((i) => replaced.has(i))) next = rebuild(node, node.inputs.map(current));
    if (next) {
      replaced.set(node, next);
      graphNodes.add(next);
    }
  }
  return roots.map(current);
}

/** The node again, reading `inputs`: same op, attributes, shape and scope. */
function rebuild(node: Tensor, inputs: readonly Tensor[]): Tensor {
  const copy = new Tensor({ shape: node.shape, dtype: node.dtype, op: node.op, inputs, attrs: node.attrs, scope: node.scope });
  // It computes the same value, so the values fetched along with it come with it.
  copy.sideOutputs = node.sideOutputs;
  return copy;
}

/**
 * Makes the nodes rewrites build in one sweep one node per computation: two replacements that
 * both need the same new tensor (a convolution's input and weight gradients both scaling by one
 * factor) share it, as one rule building both would. Nodes of the graph (as built, or as rewritten
 * so far) are never merged.
 */
class Interner {
  private readonly byKey = new Map<string, Tensor>();
  private readonly done = new Map<Tensor, Tensor>();

  constructor(private readonly inGraph: (t: Tensor) => boolean) {}

  intern(t: Tensor): Tensor {
    if (isBoundary(t) || this.inGraph(t)) return t;
    const known = this.done.get(t);
    if (known) return known;
    const inputs = t.inputs.map((i) => this.intern(i));
    const key = `${t.op!.name}${JSON.stringify(t.attrs)}(${inputs.map((i) => i.id).join(',')})`;
    let shared = this.byKey.get(key);
    if (!shared) {
      shared = inputs.every((i, k) => i === t.inputs[k]) ? t : rebuild(t, inputs);
      this.byKey.set(key, shared);
    }
    this.done.set(t, shared);
    return shared;
  }
}
