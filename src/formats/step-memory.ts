import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseOnnxModel } from './onnx-model.ts';

/** One node as ONNX Runtime ran it, with its arena after the node. */
export interface RanNode {
  readonly name: string;
  readonly op: string;
  readonly inUseBytes: number;
  readonly heldBytes: number;
}

/** One tensor of a run: where it was made and last read, in the order the nodes ran. */
export interface RunTensor {
  readonly name: string;
  /** The op that made it (ONNX Runtime's, after its fusions) and that node's name. */
  readonly op: string;
  readonly node: string;
  readonly madeAt: number;
  /** The last node that read it, or the end of the run for a graph output. */
  readonly lastReadAt: number;
  readonly bytes: number;
}

export interface StepMemory {
  readonly nodes: readonly RanNode[];
  /** Tensors with buffers of their own: views (Reshape and the like) count with what they view. */
  readonly tensors: readonly RunTensor[];
  /** The node where the arena's bytes in use peaked. */
  readonly peakAt: number;
  /** Tensors live at a node: made at or before it and read at or after it. */
  liveAt(at: number): RunTensor[];
}

/** An event of ONNX Runtime's profile (Chrome trace JSON). */
export interface ProfileEvent {
  cat?: string; name: string; ts: number; dur: number;
  args?: { op_name?: string; output_type_shape?: Record<string, number[]>[]; mem_bytes_in_use?: string; mem_arena_held?: string };
}

/**
 * The last run in the largest profile written into `dir` (RuntimeOptions.profilePrefix writes one
 * per session; a training graph's is by far the largest), and its node events in the order they ran.
 */
export function lastProfiledRun(dir: string): { file: string; run: ProfileEvent; nodes: ProfileEvent[] } {
  const { file, runs } = profiledRuns(dir);
  return { file, ...runs[runs.length - 1] };
}

/** Every run in the largest profile written into `dir`, each with its node events in the order they ran. */
export function profiledRuns(dir: string): { file: string; runs: { run: ProfileEvent; nodes: ProfileEvent[] }[] } {
  const file = largestFile(dir, '.json');
  if (!file) throw new Error(`ONNX Runtime wrote no profile into ${dir}`);
  const events = JSON.parse(readFileSync(join(dir, file), 'utf8')) as ProfileEvent[];
  const kernels = events.filter((e) => e.cat === 'Node' && e.name.endsWith('_kernel_time')).sort((a, b) => a.ts - b.ts);
  const runs = events.filter((e) => e.cat === 'Session' && e.name === 'model_run').map((run) => ({
    run, nodes: kernels.filter((e) => e.ts >= run.ts && e.ts <= run.ts + run.dur),
  }));
  if (runs.length === 0) throw new Error(`the profile ${join(dir, file)} holds no run`);
  return { file, runs };
}

function largestFile(dir: string, ext: string): string | undefined {
  return readdirSync(dir).filter((f) => f.endsWith(ext)).sort((a, b) => statSync(join(dir, b)).size - statSync(join(dir, a)).size)[0];
}

// ONNX Runtime gives these ops' output their input's buffer.
const VIEWS = new Set(['Reshape', 'Squeeze', 'Unsqueeze', 'Flatten', 'Identity']);
const ELEMENT_BYTES: Readonly<Record<string, number>> = { double: 8, int64: 8, float: 4, int32: 4, float16: 2, bool: 1, uint8: 1, int8: 1 };

/**
 * Reads the last run of the largest session profiled into `dir` (RuntimeOptions.profilePrefix
 * writes one profile and one optimized graph per session): ONNX Runtime's node events carry the
 * arena's bytes in use and held after each node, and the optimized graph gives each tensor's
 * readers, so each tensor is live from the node that made it to its last reader.
 */
export function readStepMemory(dir: string): StepMemory {
  const { file: profile, nodes: ran } = lastProfiledRun(dir);
  const graphFile = join(dir, profile.replace(/_\d{4}-\d\d-\d\d_[\d-]+_\d+\.json$/, '.onnx'));
  const graph = parseOnnxModel(readFileSync(graphFile), graphFile);

  const byName = new Map(graph.nodes.map((n) => [n.name, n]));
  const viewOf = new Map<string, string>();
  const bufferOf = (name: string): string => viewOf.get(name) ?? name;
  const made = new Map<string, { op: string; node: string; at: number; bytes: number }>();
  const lastRead = new Map<string, number>();
  const nodes: RanNode[] = ran.map((e, at) => {
    const name = e.name.replace(/_kernel_time$/, '');
    const op = e.args?.op_name ?? '?';
    const node = byName.get(name);
    if (node) {
      for (const input of node.inputs) if (input) lastRead.set(bufferOf(input), at);
      if (VIEWS.has(node.opType) && node.inputs[0]) {
        viewOf.set(node.outputs[0], bufferOf(node.inputs[0]));
      } else {
        node.outputs.forEach((out, k) => {
          const typeShape = e.args?.output_type_shape?.[k];
          if (!out || !typeShape) return;
          const [type, dims] = Object.entries(typeShape)[0];
          made.set(out, { op, node: name, at, bytes: dims.reduce((a, b) => a * b, ELEMENT_BYTES[type] ?? 4) });
        });
      }
    }
    return { name, op, inUseBytes: Number(e.args?.mem_bytes_in_use ?? 0), heldBytes: Number(e.args?.mem_arena_held ?? 0) };
  });
  for (const out of graph.outputs) lastRead.set(bufferOf(out.name), nodes.length);
  const tensors: RunTensor[] = [...made].map(([name, m]) => ({ name, op: m.op, node: m.node, madeAt: m.at, lastReadAt: lastRead.get(name) ?? m.at, bytes: m.bytes }));
  const peakAt = nodes.reduce((best, n, i) => (n.inUseBytes > nodes[best].inUseBytes ? i : best), 0);
  return {
    nodes,
    tensors,
    peakAt,
    liveAt: (at) => tensors.filter((t) => t.madeAt <= at && t.lastReadAt >= at).sort((a, b) => b.bytes - a.bytes),
  };
}
