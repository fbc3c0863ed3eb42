/**
 * How long the event loop stalls while a real training job runs in the process, with the
 * 'workers' executor and inline: `fit()` on hymenoptera (../shared/data/hymenoptera beside the
 * repository) with the default frozen MobileNetV2 recipe for a few epochs, and one epoch in
 * finetune mode. A 10 ms interval timer records how late each tick fires; reported are the p50,
 * p99 and max of those delays, the training wall time and the CPU time of the whole process (every
 * thread: what the worker hop costs, less disturbed than wall time by other load on the machine).
 * Each run has a fresh process and an empty feature cache, so both executors extract the same
 * features; the executors take turns, `rounds` times, and each reports its medians.
 *
 *   node --import tsx bench/event-loop.ts workers frozen    # one run, one JSON line
 *   npm run bench -- --only event-loop [--rounds N]          # the four cases, as rows
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fit, type TrainEvent } from '../src/train/fit.ts';
import type { TrainMode } from '../src/train/config.ts';
import { Runtime, type Executor } from '../src/runtime/index.ts';
import { median } from './median.ts';

const root = resolve(import.meta.dirname, '..');
const data = resolve(root, '..', 'shared', 'data', 'hymenoptera');
const weights = resolve(root, '..', 'shared', 'weights', 'mobilenet_v2_imagenet.pth');
const THREADS = 2;
const TICK_MS = 10;
/** Frozen: the recipe's head training is fast once features exist, so a few epochs. */
const EPOCHS: Record<'frozen' | 'finetune', number> = { frozen: 3, finetune: 1 };

export interface EventLoopRun {
  executor: Executor; mode: TrainMode; p50_ms: number; p99_ms: number; max_ms: number; wall_s: number; cpu_s: number; ticks: number;
  /** The longest stalls, with what the job was doing when each began. */
  stalls: { ms: number; during: string }[];
}

/** Lateness of every tick of a 10 ms interval, tagged with the job's phase. */
function startDelayProbe(phase: () => string) {
  const delays: number[] = [];
  const stalls: { ms: number; during: string }[] = [];
  let last = performance.now();
  let during = phase();
  const timer = setInterval(() => {
    const now = performance.now();
    const late = Math.max(0, now - last - TICK_MS);
    delays.push(late);
    if (late > 50) stalls.push({ ms: +late.toFixed(1), during });
    last = now;
    during = phase();
  }, TICK_MS);
  return {
    stop() {
      clearInterval(timer);
      const sorted = [...delays].sort((a, b) => a - b);
      const at = (q: number) => +(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0).toFixed(1);
      return { p50_ms: at(0.5), p99_ms: at(0.99), max_ms: +(sorted[sorted.length - 1] ?? 0).toFixed(1), ticks: delays.length, stalls: stalls.sort((a, b) => b.ms - a.ms).slice(0, 8) };
    },
  };
}

function describe(e: TrainEvent): string {
  if (e.type === 'features') return `features ${e.split}`;
  if (e.type === 'step') return `epoch ${e.epoch} step ${e.report.batch}`;
  if (e.type === 'epoch-start') return `epoch ${e.epoch} start`;
  if (e.type === 'epoch-end') return `epoch ${e.record.epoch} end (validation done)`;
  return e.type;
}

export async function measureEventLoop(executor: Executor, mode: 'frozen' | 'finetune'): Promise<EventLoopRun> {
  const runtime = new Runtime({ threads: THREADS, executor, workers: 1 });
  const cacheDir = mkdtempSync(join(tmpdir(), 'graft-event-loop-'));
  let phase = 'setup';
  const probe = startDelayProbe(() => phase);
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  try {
    await fit(data, { model: 'mobilenet_v2', weights, mode, epochs: EPOCHS[mode], cacheDir }, { runtime, onEvent: (e) => { phase = describe(e); } });
    const wall = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    return { executor, mode, ...probe.stop(), wall_s: +wall.toFixed(1), cpu_s: +((cpu.user + cpu.system) / 1e6).toFixed(1) };
  } finally {
    probe.stop();
    await runtime.close();
    rmSync(cacheDir, { recursive: true, force: true });
  }
}

export interface EventLoopRow { case: string; unit: string; graft: number; pytorch: null }

/** The four cases, each run in a fresh process, executors taking turns; none when the reference data is missing. */
export function benchEventLoop({ rounds = 1 }: { rounds?: number } = {}): EventLoopRow[] {
  if (!existsSync(data) || !existsSync(weights)) {
    process.stderr.write(`  event-loop: skipped, it trains on ${data} with ${weights}, which are missing\n`);
    return [];
  }
  const rows: EventLoopRow[] = [];
  for (const mode of ['frozen', 'finetune'] as const) {
    const runs: Record<Executor, EventLoopRun[]> = { workers: [], inline: [] };
    for (let round = 0; round < rounds; round++) {
      for (const executor of ['workers', 'inline'] as const) {
        const r = spawnSync(process.execPath, ['--import', 'tsx', resolve(import.meta.dirname, 'event-loop.ts'), executor, mode], { encoding: 'utf8', maxBuffer: 1 << 24 });
        if (r.status !== 0) throw new Error(`event-loop benchmark (${executor}, ${mode}) failed:\n${r.stderr.slice(-2000)}`);
        runs[executor].push(JSON.parse(r.stdout.trim().split('\n').pop()!) as EventLoopRun);
      }
    }
    for (const executor of ['workers', 'inline'] as const) {
      const of = (key: 'p50_ms' | 'p99_ms' | 'max_ms' | 'wall_s' | 'cpu_s') => median(runs[executor].map((r) => r[key]));
      const name = `event-loop ${mode} ${executor}`;
      rows.push({ case: `${name} delay p50`, unit: 'ms', graft: of('p50_ms'), pytorch: null });
      rows.push({ case: `${name} delay p99`, unit: 'ms', graft: of('p99_ms'), pytorch: null });
      rows.push({ case: `${name} delay max`, unit: 'ms', graft: of('max_ms'), pytorch: null });
      rows.push({ case: `${name} training wall`, unit: 's', graft: of('wall_s'), pytorch: null });
      rows.push({ case: `${name} training cpu`, unit: 's', graft: of('cpu_s'), pytorch: null });
    }
  }
  return rows;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const executor = (process.argv[2] ?? 'workers') as Executor;
  const mode = (process.argv[3] ?? 'frozen') as 'frozen' | 'finetune';
  if (!existsSync(data) || !existsSync(weights)) {
    process.stderr.write(`event-loop: needs ${data} and ${weights}\n`);
    process.exit(2);
  }
  console.log(JSON.stringify(await measureEventLoop(executor, mode)));
}
