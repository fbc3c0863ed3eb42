import * as ort from 'onnxruntime-node';
import type { SideOutput, Tensor, TensorData } from '../graph/tensor.ts';
import { compile, inputName, outputName, trace, type Trace } from '../graph/trace.ts';
import type { Executable } from './session.ts';
import type { FeedBuffers, FeedLease } from './feed-buffers.ts';

/** What realizing needs of a runtime (runtime.ts): its sessions and its machine's blocked layout. */
export interface SessionSource {
  session(signature: string, build: () => Uint8Array, describe: () => string): Promise<Executable>;
  blockedLayoutBlockSize(): Promise<number>;
  /** The buffers it lends to runs (Runtime.withFeed): a lent leaf moves to its run, not copied. */
  readonly feedBuffers: Pick<FeedBuffers, 'takeLease' | 'isSpent'>;
}

/** The leaf as ONNX Runtime's tensor, over the same memory (the executor copies what it must). */
function toOrt(t: Tensor): ort.Tensor {
  return new ort.Tensor(t.dtype, t.value as TensorData, t.shape as number[]);
}

/** The side outputs of the ops a traced graph computes (see Tensor.sideOutputs). */
function sideOutputsIn(nodes: readonly Tensor[]): { anchor: Tensor; entry: SideOutput }[] {
  const found: { anchor: Tensor; entry: SideOutput }[] = [];
  // A rewritten copy of a node carries the same entries: each is handed its values once.
  const seen = new Set<SideOutput>();
  for (const t of nodes) {
    for (const entry of t.sideOutputs ?? []) {
      if (!seen.has(entry) && !entry.delivered) found.push({ anchor: t, entry });
      seen.add(entry);
    }
  }
  return found;
}

/** A name for a traced graph in errors: a digest of its signature, its size and the modules it spans. */
export function describeTrace(tr: Trace): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < tr.signature.length; i++) h = Math.imul(h ^ tr.signature.charCodeAt(i), 0x01000193);
  const scopes = tr.nodes.map((t) => t.scope).filter((s) => s !== '');
  const span = scopes.length === 0 ? '' : scopes[0] === scopes[scopes.length - 1] ? `, in ${scopes[0]}` : `, ${scopes[0]} to ${scopes[scopes.length - 1]}`;
  return `graph ${(h >>> 0).toString(16).padStart(8, '0')} (${tr.nodes.length} ops${span})`;
}

/**
 * Computes the targets in one run: traces what they need, compiles it to ONNX (or reuses the
 * session compiled for the same graph signature), feeds the leaves and stores the results.
 */
export async function realizeWith(rt: SessionSource, targets: readonly Tensor[]): Promise<void> {
  const pending = [...new Set(targets)].filter((t) => t.value === null);
  if (pending.length === 0) return;
  let tr = trace(pending);
  const sides = sideOutputsIn(tr.nodes);
  const extra = sides.flatMap(({ entry }) => entry.tensors).filter((t) => !pending.includes(t));
  if (extra.length) tr = trace([...pending, ...extra]);
  const blockSize = await rt.blockedLayoutBlockSize();
  const session = await rt.session(`${tr.signature}|b${blockSize}`, () => compile(tr, { blockSize }), () => describeTrace(tr));
  const feeds: Record<string, ort.Tensor> = {};
  tr.feeds.forEach((t, i) => {
    if (rt.feedBuffers.isSpent(t)) throw new Error(`${t} was a lent input (Runtime.withFeed): its one run has taken its values, so it cannot be read or fed again`);
    if (t.value === null) throw new Error(`Internal: leaf ${t} has no value to feed`);
    feeds[inputName(i)] = toOrt(t);
  });
  // Taken last, right before the run, which settles them whatever happens.
  const lent: FeedLease[] = [];
  for (const t of tr.feeds) {
    const lease = rt.feedBuffers.takeLease(t);
    if (!lease) continue;
    lent.push(lease);
    t.value = null;
  }
  const results = await session.run(feeds, lent);
  tr.targets.forEach((t, i) => {
    t.value = results[outputName(i)].data as TensorData;
  });
  for (const t of tr.nodes) t.sideOutputs = null;
  for (const { entry } of sides) {
    entry.delivered = true;
    entry.onValues(entry.tensors.map((t) => t.value!));
  }
}
