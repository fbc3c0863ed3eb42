/**
 * A predict() loop beside a training job in one process, for as many calls as a server answers
 * in a while: `node --import tsx bench/jobs-soak.ts [calls]` (10,000 by default). Prints the wall
 * time, the process' RSS after the warm-up and at the end, and the training job's progress.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { predictBesideTraining } from './soak-loop.ts';

const calls = Number(process.argv[2] ?? 10_000);
if (!Number.isInteger(calls) || calls < 1) throw new RangeError(`Expected a positive integer number of calls but received ${process.argv[2]}`);
const dir = mkdtempSync(join(tmpdir(), 'graft-soak-'));
try {
  const r = await predictBesideTraining({ calls, warmup: 200, dir, onProgress: (n) => process.stderr.write(`\r${n} / ${calls} calls`) });
  process.stderr.write('\n');
  console.log(JSON.stringify(r, null, 1));
  console.log(`${r.calls} predict calls in ${r.wallSeconds.toFixed(1)} s (median ${r.medianCallMs.toFixed(1)} ms, slowest ${r.slowestCallMs.toFixed(1)} ms) beside a training job that took ${r.trainingStepsDuringLoop} steps meanwhile; RSS ${r.rssAfterWarmupMb.toFixed(1)} MB after warm-up, ${r.rssEndMb.toFixed(1)} MB at the end (${(r.rssGrowth * 100).toFixed(2)}%)`);
  if (!r.everyCallBesideTraining || r.rssGrowth >= 0.05) process.exitCode = 1;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
