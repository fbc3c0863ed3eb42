/**
 * `npm run bench`: graft against PyTorch on this machine, both measured in the same run.
 * `npm run bench -- --json` prints one JSON object per line: {case, unit, graft, pytorch, ratio},
 * ratio = graft / pytorch (below 1 means graft is faster or smaller). pytorch is null when
 * PyTorch is not installed. `-- --only forward,training,loader,event-loop,serve` picks sections;
 * `-- --only gemm` the matrix-product ceiling (bench/gemm.ts), `-- --only encode` building and encoding a large network (bench/encode.ts), `-- --only scale` the job-queue section (neither among the defaults; `-- --images N`), `-- --only ui`
 * the web app on a generated project (20,000 images unless `-- --images N`);
 * `-- --archs resnet18,vit_b_16` limits the forward and training sections to those architectures;
 * `-- --rounds N` sets how many alternating graft / PyTorch runs each forward and training case takes, and how
 * many alternating workers / inline runs each event-loop case takes, and the scale section's rounds (3); `-- --seconds N` how long
 * each serve load runs (10).
 */
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { setRuntimeOptions } from '../src/runtime/index.ts';
import { benchForward } from './forward.ts';
import { pytorchSpeed } from './pytorch.ts';
import { table } from '../src/cli/table.ts';
import { median } from './median.ts';

/** `pytorch` is the reference value; `against` names it where the reference is not PyTorch (the serve section's raw ONNX Runtime). */
export interface Row { case: string; unit: string; graft: number; pytorch: number | null; ratio: number | null; against?: string }

const args = process.argv.slice(2);
const json = args.includes('--json');
/** The value of `--name=v` or `--name v`. */
const flag = (name: string) => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? (args.includes(`--${name}`) ? args[args.indexOf(`--${name}`) + 1] : undefined);
const sections = new Set((flag('only') ?? 'forward,training,loader,event-loop,serve').split(','));
const THREADS = 2;
const BATCH = 16;
/** Alternating graft / PyTorch runs per forward and training case (`-- --rounds N`). */
const ROUNDS = Math.max(1, Number(flag('rounds') ?? 3));
setRuntimeOptions({ threads: THREADS });

const rows: Row[] = [];
function report(row: Omit<Row, 'ratio'>): void {
  const r: Row = { ...row, graft: +row.graft.toFixed(3), ratio: row.pytorch ? +(row.graft / row.pytorch).toFixed(3) : null };
  rows.push(r);
  if (json) process.stdout.write(`${JSON.stringify(r)}\n`);
  else process.stderr.write(`  ${r.case}: graft ${r.graft} ${r.unit}, ${r.against ?? 'pytorch'} ${r.pytorch ?? 'n/a'}, ratio ${r.ratio ?? 'n/a'}\n`);
}

const ALL_ARCHS = ['resnet50', 'resnet18', 'mobilenet_v2', 'efficientnet_b0', 'regnet_y_400mf', 'convnext_tiny', 'vit_b_16', 'swin_t'];
/** The forward and training sections' architectures (`-- --archs a,b` for some of them). */
const ARCHS = flag('archs')?.split(',') ?? ALL_ARCHS;

if (sections.has('forward')) {
  // graft and PyTorch take turns, ROUNDS times each, as the training cases do: a slow spell on a
  // shared machine then hits both sides.
  for (const arch of ARCHS) {
    const graftRuns: number[] = [];
    const torchRuns: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      graftRuns.push(await benchForward(arch, BATCH));
      const ref = pytorchSpeed(arch, BATCH, THREADS, { fresh: round > 0 });
      if (ref) torchRuns.push(ref.forward_ms_per_img);
    }
    report({ case: `forward ${arch} b${BATCH}`, unit: 'ms/img', graft: median(graftRuns), pytorch: torchRuns.length ? median(torchRuns) : null });
  }
}

// Sections contributed by other parts of the project, each in its own file.
const here = import.meta.dirname;
if (sections.has('training') && existsSync(resolve(here, 'training.ts'))) {
  // Each architecture in a fresh process, so its peak memory is its own; graft and PyTorch take
  // turns, ROUNDS times each, and each side reports its median: the machines are shared, and a
  // slow spell then hits both sides rather than one run.
  const medianOf = (runs: Record<string, number>[], key: string) => median(runs.map((r) => r[key]));
  for (const arch of ARCHS) {
    const graftRuns: Record<string, number>[] = [];
    const torchRuns: Record<string, number>[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const r = spawnSync(process.execPath, ['--import', 'tsx', resolve(here, 'training.ts'), arch, String(BATCH), String(THREADS)], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`training benchmark for ${arch} failed:\n${r.stderr.slice(-2000)}`);
      graftRuns.push(JSON.parse(r.stdout.trim().split('\n').pop()!));
      const ref = pytorchSpeed(arch, BATCH, THREADS, { fresh: round > 0 });
      if (ref) torchRuns.push(ref);
    }
    const torch = (key: string) => (torchRuns.length ? medianOf(torchRuns, key) : null);
    report({ case: `frozen-head step ${arch} b${BATCH}`, unit: 'ms/img', graft: medianOf(graftRuns, 'frozen_step_ms_per_img'), pytorch: torch('frozen_step_ms_per_img') });
    report({ case: `full step ${arch} b${BATCH}`, unit: 'ms/img', graft: medianOf(graftRuns, 'full_step_ms_per_img'), pytorch: torch('full_step_ms_per_img') });
    report({ case: `peak RSS frozen+full ${arch} b${BATCH}`, unit: 'MB', graft: medianOf(graftRuns, 'peak_rss_mb'), pytorch: torch('peak_rss_mb') });
  }
}
if (sections.has('loader') && existsSync(resolve(here, 'loader.ts'))) {
  const { benchLoader } = await import('./loader.ts');
  for (const r of await benchLoader({})) report(r);
}
if (sections.has('event-loop') && existsSync(resolve(here, 'event-loop.ts'))) {
  // How long a training job in the process stalls the event loop, per executor (no PyTorch side).
  const { benchEventLoop } = await import('./event-loop.ts');
  for (const r of benchEventLoop({ rounds: ROUNDS })) report(r);
}

if (sections.has('serve') && existsSync(resolve(here, 'serve.ts'))) {
  // A real `graft serve` process under autocannon, against raw ONNX Runtime on the same graph.
  const { benchServe } = await import('./serve.ts');
  const seconds = Number(flag('seconds') ?? 10);
  for (const r of await benchServe({ seconds })) report({ case: r.case, unit: r.unit, graft: r.graft, pytorch: r.reference, against: r.against });
}

if (sections.has('gemm')) {
  // The matrix-product ceiling under the transformer cases: ONNX Runtime's Gemm against F.linear.
  const { benchGemm } = await import('./gemm.ts');
  for (const r of await benchGemm(THREADS, ROUNDS)) report({ case: r.case, unit: 'ms', graft: r.graft, pytorch: r.pytorch });
}

if (sections.has('encode')) {
  // Building a network whose weights are about to be replaced, and encoding its graph; not in the default sections.
  const { benchEncode } = await import('./encode.ts');
  for (const arch of flag('archs')?.split(',') ?? ['vit_b_16']) {
    for (const r of await benchEncode(arch, ROUNDS)) report({ case: r.case, unit: r.unit, graft: r.graft, pytorch: r.reference, against: r.against });
  }
}

if (sections.has('scale') && existsSync(resolve(here, 'scale.ts'))) {
  // graft embed through the BullMQ queue (real worker processes) against one process; not in the default sections.
  const { benchScale } = await import('./scale.ts');
  for (const r of await benchScale({ images: Number(flag('images') ?? 600), rounds: ROUNDS })) report({ case: r.case, unit: r.unit, graft: r.graft, pytorch: r.reference, against: r.against });
}

if (sections.has('ui') && existsSync(resolve(here, 'ui.ts'))) {
  // A real `graft ui` process on a generated 20,000-image project, driven by Chromium; not in the default sections.
  const { benchUi } = await import('./ui.ts');
  for (const r of await benchUi({ images: Number(flag('images') ?? 20_000) })) report({ case: r.case, unit: r.unit, graft: r.graft, pytorch: r.reference, against: r.against });
}

if (!json) {
  process.stdout.write(table(['case', 'unit', 'graft', 'reference', 'ratio', 'reference is'],
    rows.map((r) => [r.case, r.unit, String(r.graft), String(r.pytorch ?? 'n/a'), r.ratio === null ? 'n/a' : `${r.ratio}x`, r.pytorch === null ? '' : r.against ?? 'PyTorch'])));
}
