import type { Tensor } from './tensor.ts';
import { GraphBuilder } from './emit.ts';

/**
 * The part of the lazy graph needed to compute some targets, in execution order, with its leaves
 * sorted into values baked into the graph and values fed at run time.
 */
export interface Trace {
  /** Op results in topological order. */
  readonly nodes: readonly Tensor[];
  /** Leaves baked as initializers: constants and frozen state. */
  readonly baked: readonly Tensor[];
  /** Leaves fed at run time, in input order (`in_0`, `in_1`, ...). */
  readonly feeds: readonly Tensor[];
  readonly targets: readonly Tensor[];
  /** Identity of the compiled graph: two traces with the same signature share a session. */
  readonly signature: string;
}

/** A frozen parameter or buffer, or a constant: its value is part of the graph. */
export function isBaked(t: Tensor): boolean {
  return t.leafKind === 'constant' || (t.leafKind === 'state' && !t.requiresGrad);
}

/** Values computed before (or given) are leaves of a new trace, even when an op produced them. */
function isLeafHere(t: Tensor, targets: ReadonlySet<Tensor>): boolean {
  return t.op === null || (t.value !== null && !targets.has(t));
}

export function trace(targets: readonly Tensor[]): Trace {
  const targetSet = new Set(targets);
  const nodes: Tensor[] = [];
  const baked: Tensor[] = [];
  const feeds: Tensor[] = [];
  const index = new Map<Tensor, number>();
  const parts: string[] = [];

  // Iterative post-order walk: ResNet-152 graphs are deep enough to make recursion risky.
  const visit = (root: Tensor) => {
    const stack: [Tensor, boolean][] = [[root, false]];
    while (stack.length) {
      const [t, expanded] = stack.pop()!;
      if (index.has(t)) continue;
      if (isLeafHere(t, targetSet)) {
        index.set(t, index.size);
        if (isBaked(t)) {
          baked.push(t);
          parts.push(t.leafKind === 'constant' ? `c${t.dtype}[${t.shape}]${fingerprint(t)}` : `s${t.id}.${t.version}[${t.shape}]`);
        } else {
          feeds.push(t);
          parts.push(`i${t.dtype}[${t.shape}]`);
        }
      } else if (expanded) {
        index.set(t, index.size);
        nodes.push(t);
        parts.push(`${t.op!.name}${JSON.stringify(t.attrs)}(${t.inputs.map((i) => index.get(i)).join(',')})`);
      } else {
        stack.push([t, true]);
        for (let i = t.inputs.length - 1; i >= 0; i--) if (!index.has(t.inputs[i])) stack.push([t.inputs[i], false]);
      }
    }
  };
  for (const t of targets) visit(t);
  parts.push(`->${targets.map((t) => index.get(t)).join(',')}`);
  return { nodes, baked, feeds, targets, signature: parts.join(';') };
}

/** A content hash of a constant, so equal constants give equal signatures. */
function fingerprint(t: Tensor): string {
  const v = t.value!;
  const bytes = new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  let h = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i], 0x01000193);
  return (h >>> 0).toString(16);
}

export const inputName = (i: number) => `in_${i}`;
export const outputName = (i: number) => `out_${i}`;

/** Turns a trace into an ONNX model: baked leaves become initializers, fed leaves inputs, targets outputs. */
export function compile(tr: Trace, { blockSize = 0 }: { blockSize?: number } = {}): Uint8Array {
  const b = new GraphBuilder();
  b.blockSize = blockSize;
  tr.feeds.forEach((t, i) => b.addInput({ name: inputName(i), dtype: t.dtype, shape: t.shape }));
  // Each output's Identity right after the node that computes it: ONNX Runtime schedules from
  // the highest-numbered leaves down, and these Identities are leaves wherever it keeps them, so
  // emitted at the end they would all be walked before any other output (runtime/backward.ts).
  const outputsOf = new Map<Tensor, number[]>();
  tr.targets.forEach((t, i) => outputsOf.set(t, [...(outputsOf.get(t) ?? []), i]));
  const aliased = new Set<number>();
  const aliasOutputs = (t: Tensor, name: string) => {
    for (const i of outputsOf.get(t) ?? []) {
      b.alias(name, outputName(i));
      aliased.add(i);
    }
  };
  const results = emitTrace(b, tr, tr.feeds.map((_, i) => inputName(i)), aliasOutputs);
  tr.targets.forEach((t, i) => {
    if (!aliased.has(i)) b.alias(results[i], outputName(i));
    b.addOutput({ name: outputName(i), dtype: t.dtype, shape: t.shape });
  });
  return b.serialize();
}

/**
 * Emits a trace into a graph being built: baked leaves as initializers, each fed leaf read from
 * the value named in `feeds` (a graph input, or a value computed by nodes emitted before).
 * Returns the names of the targets' values. `afterNode` is called after each node is emitted.
 */
export function emitTrace(b: GraphBuilder, tr: Trace, feeds: readonly string[], afterNode?: (t: Tensor, name: string) => void): string[] {
  if (feeds.length !== tr.feeds.length) throw new RangeError(`The trace reads ${tr.feeds.length} fed values but ${feeds.length} names were given`);
  const names = new Map<Tensor, string>();
  tr.baked.forEach((t, i) => {
    const name = `w_${i}`;
    b.addInitializer(name, t.value!, t.shape);
    names.set(t, name);
  });
  tr.feeds.forEach((t, i) => names.set(t, feeds[i]));
  for (const t of tr.nodes) {
    b.scope = t.scope;
    const name = t.op!.emit(b, t.inputs.map((i) => names.get(i)!), t.attrs, t);
    names.set(t, name);
    if (afterNode) {
      b.scope = '';
      afterNode(t, name);
    }
  }
  b.scope = '';
  return tr.targets.map((t) => names.get(t)!);
}
