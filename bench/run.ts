/**
 * `npm run bench`: graft against PyTorch on this machine, both measured in the same run.
 * `npm run bench -- --json` prints one JSON object per line: {case, unit, graft, pytorch, ratio},
 * ratio = graft / pytorch (below 1 means graft is faster or smaller). pytorch is null when
 * PyTorch is not installed. `-- --only forward,training,loader` picks sections.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { setRuntimeOptions } from '../src/runtime/options.ts';
import { benchForward } from './forward.ts';
import { pytorchSpeed } from './pytorch.ts';
import { table } from '../src/cli/table.ts';

export interface Row { case: string; unit: string; graft: number; pytorch: number | null; ratio: number | null }

const args = process.argv.slice(2);
const json = args.includes('--json');
const onlyArg = args.find((a) => a.startsWith('--only='))?.slice(7) ?? (args.includes('--only') ? args[args.indexOf('--only') + 1] : undefined);
const sections = new Set((onlyArg ?? 'forward,training,loader').split(','));
const THREADS = 2;
const BATCH = 16;
setRuntimeOptions({ threads: THREADS });

const rows: Row[] = [];
function report(row: Omit<Row, 'ratio'>): void {
  const r: Row = { ...row, graft: +row.graft.toFixed(3), ratio: row.pytorch ? +(row.graft / row.pytorch).toFixed(3) : null };
  rows.push(r);
  if (json) process.stdout.write(`${JSON.stringify(r)}\n`);
  else process.stderr.write(`  ${r.case}: graft ${r.graft} ${r.unit}, pytorch ${r.pytorch ?? 'n/a'}, ratio ${r.ratio ?? 'n/a'}\n`);
}

const ARCHS = ['resnet50', 'resnet18', 'mobilenet_v2'];

if (sections.has('forward')) {
  for (const arch of ARCHS) {
    const graft = await benchForward(arch, BATCH);
    const ref = pytorchSpeed(arch, BATCH, THREADS);
    report({ case: `forward ${arch} b${BATCH}`, unit: 'ms/img', graft, pytorch: ref?.forward_ms_per_img ?? null });
  }
}

// Sections contributed by other parts of the project, each in its own file.
const here = import.meta.dirname;
if (sections.has('training') && existsSync(resolve(here, 'training.ts'))) {
  const { benchTrainingRows } = await import('./training.ts');
  for (const r of await benchTrainingRows({ archs: ARCHS, batch: BATCH, threads: THREADS })) report(r);
}
if (sections.has('loader') && existsSync(resolve(here, 'loader.ts'))) {
  const { benchLoader } = await import('./loader.ts');
  for (const r of await benchLoader({})) report(r);
}

if (!json) {
  process.stdout.write(table(['case', 'unit', 'graft', 'pytorch', 'ratio'],
    rows.map((r) => [r.case, r.unit, String(r.graft), String(r.pytorch ?? 'n/a'), r.ratio === null ? 'n/a' : `${r.ratio}x`])));
}
