/**
 * Where a full fine-tuning step spends its time: ONNX Runtime's own per-node timings for one
 * step of the training benchmark's protocol (random batch, 224x224, cross entropy over 10 of the
 * logits, SGD with momentum), summed by op type and split into the forward and the backward pass,
 * then the slowest nodes. Node names carry the module path that emitted them. With `--forward`, the
 * forward benchmark's inference graph instead (eval mode, frozen weights compiled as constants).
 *
 *   node --import tsx bench/profile-step.ts resnet18 [batch] [nodes] [--forward]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setRuntimeOptions } from '../src/index.ts';
import { releaseSessions } from '../src/runtime/index.ts';
import { table } from '../src/cli/table.ts';
import { lastProfiledRun } from '../src/formats/step-memory.ts';
import { trainingCase } from './training.ts';

const forwardOnly = process.argv.includes('--forward');
const positional = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const arch = positional[0] ?? 'resnet18';
const batch = Number(positional[1] ?? 16);
const shown = Number(positional[2] ?? 15);

const dir = mkdtempSync(join(tmpdir(), 'graft-profile-'));
setRuntimeOptions({ profilePrefix: join(dir, 'step') });
if (forwardOnly) {
  const { benchForward } = await import('./forward.ts');
  await benchForward(arch, batch, 2);
} else {
  const { m, stepWith } = await trainingCase(arch, batch);
  m.train();
  const step = stepWith([...m.parameters()]);
  // The first step compiles the graph; the last one is read.
  for (let i = 0; i < 3; i++) await step();
  await releaseSessions();
}

const { run, nodes } = lastProfiledRun(dir);
rmSync(dir, { recursive: true, force: true });

// The loss's log-softmax is the last op of the forward pass.
const backwardFrom = nodes.find((e) => e.args?.op_name === 'LogSoftmax')?.ts ?? Infinity;
const byOp = new Map<string, { forward: number; backward: number; count: number }>();
for (const e of nodes) {
  const op = e.args?.op_name ?? '?';
  const entry = byOp.get(op) ?? { forward: 0, backward: 0, count: 0 };
  if (e.ts < backwardFrom) entry.forward += e.dur; else entry.backward += e.dur;
  entry.count++;
  byOp.set(op, entry);
}
const ms = (us: number) => (us / 1000).toFixed(1);
const total = nodes.reduce((s, e) => s + e.dur, 0);
process.stdout.write(`${arch} batch ${batch}: one ${forwardOnly ? 'inference' : 'training'}-graph run ${ms(run.dur)} ms (${(run.dur / 1000 / batch).toFixed(1)} ms/img), kernels ${ms(total)} ms\n\n`);
const rows = [...byOp.entries()].sort((a, b) => b[1].forward + b[1].backward - (a[1].forward + a[1].backward));
process.stdout.write(table(['op', 'forward ms', 'backward ms', 'share', 'nodes'], rows.map(([op, t]) =>
  [op, ms(t.forward), ms(t.backward), `${((100 * (t.forward + t.backward)) / total).toFixed(1)}%`, String(t.count)])));
process.stdout.write('\n');
const slowest = [...nodes].sort((a, b) => b.dur - a.dur).slice(0, shown);
process.stdout.write(table(['node', 'op', 'ms'], slowest.map((e) => [e.name.replace(/_kernel_time$/, ''), e.args?.op_name ?? '?', ms(e.dur)])));
