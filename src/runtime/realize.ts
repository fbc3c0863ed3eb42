import * as ort from 'onnxruntime-node';
import type { Tensor, TensorData } from '../graph/tensor.ts';
import { compile, inputName, outputName, trace } from '../graph/trace.ts';
import { sessionFor } from './session.ts';
import { blockedLayoutBlockSize } from './blocked-layout.ts';

function toOrt(t: Tensor): ort.Tensor {
  // onnxruntime-node rejects views of a SharedArrayBuffer ("Invalid argument"); the loader's
  // worker threads write batches into one, so those are copied here.
  const v = t.value as TensorData;
  const data = v.buffer instanceof SharedArrayBuffer ? v.slice() : v;
  return new ort.Tensor(t.dtype, data, t.shape as number[]);
}

/**
 * Values some forward pass wants once they are computed (batch norm's batch statistics, for its
 * running averages), keyed by who registered them. Any run that computes their `anchor` (the
 * forward value they come with) fetches them too and hands them over; earlier forwards of the
 * same owner that never ran are dropped, as they were abandoned.
 */
interface SideOutput { anchor: Tensor; tensors: readonly Tensor[]; onValues: (values: TensorData[]) => void }
const sideOutputs = new Map<object, SideOutput[]>();

export function registerSideOutput(owner: object, anchor: Tensor, tensors: readonly Tensor[], onValues: (values: TensorData[]) => void): void {
  const list = sideOutputs.get(owner) ?? [];
  list.push({ anchor, tensors, onValues });
  sideOutputs.set(owner, list);
}

/** The side outputs whose anchors a traced graph computes. */
function sideOutputsIn(nodes: ReadonlySet<Tensor>): { owner: object; entry: SideOutput }[] {
  const found: { owner: object; entry: SideOutput }[] = [];
  for (const [owner, list] of sideOutputs) {
    for (const entry of list) if (nodes.has(entry.anchor)) found.push({ owner, entry });
  }
  return found;
}

/**
 * Computes the targets in one run: traces what they need, compiles it to ONNX (or reuses the
 * session compiled for the same graph signature), feeds the leaves and stores the results.
 */
export async function realize(targets: readonly Tensor[]): Promise<void> {
  const pending = [...new Set(targets)].filter((t) => t.value === null);
  if (pending.length === 0) return;
  let tr = trace(pending);
  const sides = sideOutputs.size ? sideOutputsIn(new Set(tr.nodes)) : [];
  const extra = sides.flatMap(({ entry }) => entry.tensors).filter((t) => !pending.includes(t));
  if (extra.length) tr = trace([...pending, ...extra]);
  const blockSize = await blockedLayoutBlockSize();
  const session = await sessionFor(`${tr.signature}|b${blockSize}`, () => compile(tr, { blockSize }));
  const feeds: Record<string, ort.Tensor> = {};
  tr.feeds.forEach((t, i) => {
    if (t.value === null) throw new Error(`Internal: leaf ${t} has no value to feed`);
    feeds[inputName(i)] = toOrt(t);
  });
  const results = await session.run(feeds);
  tr.targets.forEach((t, i) => {
    t.value = results[outputName(i)].data as TensorData;
  });
  for (const { owner, entry } of sides) {
    const list = sideOutputs.get(owner)!;
    list.splice(0, list.indexOf(entry) + 1);
    if (list.length === 0) sideOutputs.delete(owner);
    entry.onValues(entry.tensors.map((t) => t.value!));
  }
}
