/**
 * What a full fine-tuning step holds at its peak: one step of the training benchmark's protocol
 * (bench/training.ts) run under ONNX Runtime's profiler (formats/step-memory.ts reads it). Prints
 * the arena at its peak, then the tensors live at the peak node, summed by the op that made them
 * and split into those the forward pass made (kept for the backward) and those the backward made,
 * then the largest. `--keep` leaves the profile and the optimized graph in the folder it prints.
 *
 *   node --import tsx bench/memory-step.ts convnext_tiny [batch] [tensors] [--keep]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setRuntimeOptions } from '../src/index.ts';
import { releaseSessions } from '../src/runtime/index.ts';
import { readStepMemory } from '../src/formats/step-memory.ts';
import { table } from '../src/cli/table.ts';
import { trainingCase } from './training.ts';

const keep = process.argv.includes('--keep');
const positional = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const arch = positional[0] ?? 'resnet18';
const batch = Number(positional[1] ?? 16);
const shown = Number(positional[2] ?? 25);

const dir = mkdtempSync(join(tmpdir(), 'graft-memory-'));
setRuntimeOptions({ profilePrefix: join(dir, 'step') });
const { m, stepWith } = await trainingCase(arch, batch);
m.train();
const step = stepWith([...m.parameters()]);
for (let i = 0; i < 2; i++) await step();
await releaseSessions();
const peakRss = process.resourceUsage().maxRSS * 1024;

const run = readStepMemory(dir);
if (keep) process.stdout.write(`profile and optimized graph kept in ${dir}\n`);
else rmSync(dir, { recursive: true, force: true });

const MB = (bytes: number) => (bytes / 2 ** 20).toFixed(1);
const peak = run.nodes[run.peakAt];
// The loss's log-softmax is the last op of the forward pass.
const backwardFrom = run.nodes.findIndex((n) => n.op === 'LogSoftmax');
const live = run.liveAt(run.peakAt);
const sum = (ts: typeof live) => ts.reduce((s, t) => s + t.bytes, 0);
process.stdout.write(`${arch} batch ${batch}: ${run.nodes.length} nodes, backward from node ${backwardFrom}; peak RSS of the process ${MB(peakRss)} MB\n`);
process.stdout.write(`arena at its peak (node ${run.peakAt}, ${peak.op} ${peak.name}): in use ${MB(peak.inUseBytes)} MB, held ${MB(peak.heldBytes)} MB\n`);
process.stdout.write(`tensors live there by the graph: ${live.length}, ${MB(sum(live))} MB; of them made by the forward pass ${MB(sum(live.filter((t) => t.madeAt < backwardFrom)))} MB\n\n`);

const byOp = new Map<string, { forward: number; backward: number; count: number }>();
for (const t of live) {
  const entry = byOp.get(t.op) ?? { forward: 0, backward: 0, count: 0 };
  if (t.madeAt < backwardFrom) entry.forward += t.bytes; else entry.backward += t.bytes;
  entry.count++;
  byOp.set(t.op, entry);
}
const rows = [...byOp].sort((a, b) => b[1].forward + b[1].backward - (a[1].forward + a[1].backward));
process.stdout.write(table(['made by', 'forward MB', 'backward MB', 'tensors'], rows.map(([op, v]) => [op, MB(v.forward), MB(v.backward), String(v.count)])));
process.stdout.write('\n');
process.stdout.write(table(['tensor', 'made by', 'node', 'made at', 'last read at', 'MB'],
  live.slice(0, shown).map((t) => [t.name.slice(0, 60), t.op, t.node.slice(0, 60), String(t.madeAt), String(t.lastReadAt), MB(t.bytes)])));
