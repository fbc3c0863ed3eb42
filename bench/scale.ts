/**
 * `npm run bench -- --only scale`: `graft embed` through the BullMQ queue against the
 * single-process command on the same generated images, in real processes: images/s of one
 * worker against one process (the queue's cost, goal >= 0.95), the per-shard overhead (small
 * shards against large ones, in one process), and two workers on this machine, as measured.
 * Needs redis-server; without it the queue cases are left out. The workers are started fresh for
 * each run: told the model (`graft worker --model`, the recipe), they load it and compile its
 * session before they wait for shards, which the bench waits for as a deployment starts its workers
 * before it submits; one case leaves --model out, so its first shard loads the model. One more
 * submission to the same worker measures it with the model used before.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { colorDataset } from '../test/support/color-dataset.ts';
import { redisServerBinary, startRedis } from '../test/support/redis-server.ts';
import { median } from './median.ts';

const root = resolve(import.meta.dirname, '..');
const BACKBONE = `onnx:${join(root, 'assets', 'backbones', 'mobilenetv2-12-int8.onnx')}`;

function graft(args: string[]): { child: ChildProcess; done: Promise<number | null>; stderr: () => string } {
  const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'src', 'cli', 'main.ts'), ...args], { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d) => { stderr += d; });
  return { child, done: new Promise((ok) => child.on('exit', ok)), stderr: () => stderr };
}

/**
 * CPU seconds (user + system, every thread) from Linux's /proc: of a live process, or with
 * 'children' of this one's children that have exited. On a shared machine other work stretches
 * the wall times, but much less the CPU each side spends; null where there is no /proc.
 */
function cpuSeconds(pid: number | 'children'): number | null {
  const file = `/proc/${pid === 'children' ? 'self' : pid}/stat`;
  if (!existsSync(file)) return null;
  const fields = readFileSync(file, 'utf8').split(') ')[1].split(' ');
  // utime, stime are fields 14 and 15 of stat(5), cutime and cstime 16 and 17; in clock ticks of 1/100 s.
  const at = pid === 'children' ? 13 : 11;
  return (Number(fields[at]) + Number(fields[at + 1])) / 100;
}

/** Wall seconds of one graft command, and the CPU seconds it and `alongside` (workers) spent meanwhile. */
async function timed(args: string[], alongside: ChildProcess[] = []): Promise<{ wall: number; cpu: number | null }> {
  const before = [cpuSeconds('children'), ...alongside.map((c) => cpuSeconds(c.pid!))];
  const t0 = performance.now();
  const run = graft(args);
  if ((await run.done) !== 0) throw new Error(`graft ${args.join(' ')} failed: ${run.stderr()}`);
  const wall = (performance.now() - t0) / 1000;
  const after = [cpuSeconds('children'), ...alongside.map((c) => cpuSeconds(c.pid!))];
  const cpu = before.some((c) => c === null) || after.some((c) => c === null) ? null : after.reduce((sum, c, i) => sum + c! - before[i]!, 0);
  return { wall, cpu };
}

async function workers(url: string, n: number, warm: boolean): Promise<{ child: ChildProcess; done: Promise<number | null> }[]> {
  const started = Array.from({ length: n }, () => graft(['worker', '--queue', url, ...(warm ? ['--model', BACKBONE] : [])]));
  await Promise.all(started.map((w) => new Promise<void>((ok) => {
    const t = setInterval(() => { if (/waiting for shards/.test(w.stderr())) { clearInterval(t); ok(); } }, 50);
  })));
  return started;
}

export interface ScaleRow { case: string; unit: string; graft: number; reference: number | null; against?: string }

const ratios = (xs: number[]) => xs.map((x) => x.toFixed(2)).join(' / ');

/**
 * `rounds` rounds, each timing one process, shards of 10, and one and two fresh workers through
 * the queue, the sides taking turns at going first: this machine is shared, and a slow spell then
 * hits every side rather than one. Each figure is the median of its rounds; the queue's cases name
 * each round's ratio to that round's single process, and their median, as well.
 */
export async function benchScale(o: { images?: number; rounds?: number } = {}): Promise<ScaleRow[]> {
  const perClass = Math.round((o.images ?? 600) / 2);
  const rounds = Math.max(1, o.rounds ?? 3);
  const tmp = mkdtempSync(join(tmpdir(), 'graft-bench-scale-'));
  const rows: ScaleRow[] = [];
  try {
    const data = await colorDataset(join(tmp, 'data'), { train: Math.round(perClass * 0.8), val: perClass - Math.round(perClass * 0.8) });
    const images = perClass * 2;
    const embed = (out: string, extra: string[] = []) => ['embed', data, '--model', BACKBONE, '--augment', 'none', '--quiet', '--out', join(tmp, out), ...extra];
    const shards = (size: number) => Math.ceil((perClass * 2 * 0.8) / size) + Math.ceil((perClass * 2 * 0.2) / size);
    // A first run loads the files into the page cache, so every measured run reads them alike.
    await timed(embed('warm'));
    const msPerImage = (cpu: (number | null)[]) => (cpu.some((c) => c === null) ? null : (median(cpu as number[]) * 1000) / images);
    const redis = redisServerBinary();
    const server = redis ? await startRedis(redis) : null;
    const single: number[] = [];
    const singleCpu: (number | null)[] = [];
    const small: number[] = [];
    // By case: one worker without --model, one told the model, two told the model.
    const CASES = [{ key: 'cold', n: 1, warm: false }, { key: '1', n: 1, warm: true }, { key: '2', n: 2, warm: true }] as const;
    const queued: Record<string, number[]> = { cold: [], 1: [], 2: [] };
    const queuedCpu: Record<string, (number | null)[]> = { cold: [], 1: [], 2: [] };
    const warm: number[] = [];
    try {
      for (let round = 0; round < rounds; round++) {
        const one = async () => {
          const t = await timed(embed(`single-${round}`, ['--shard-size', '100']));
          single.push(t.wall);
          singleCpu.push(t.cpu);
          small.push((await timed(embed(`small-${round}`, ['--shard-size', '10']))).wall);
        };
        const through = async () => {
          for (const c of CASES) {
            const ws = await workers(server!.url, c.n, c.warm);
            const t = await timed(embed(`queued-${c.key}-${round}`, ['--shard-size', '100', '--queue', server!.url]), ws.map((w) => w.child));
            queued[c.key].push(t.wall);
            queuedCpu[c.key].push(t.cpu);
            // The same worker again, into another folder: as a long-lived worker that has run
            // this model for an earlier job.
            if (c.key === '1') warm.push((await timed(embed(`queued-warm-${round}`, ['--shard-size', '100', '--queue', server!.url]))).wall);
            for (const w of ws) w.child.kill('SIGTERM');
            await Promise.all(ws.map((w) => w.done));
          }
        };
        if (!server || round % 2 === 0) { await one(); if (server) await through(); } else { await through(); await one(); }
      }
    } finally {
      await server?.stop();
    }
    const singleRate = images / median(single);
    rows.push({ case: `embed single process (${images} images)`, unit: 'img/s', graft: singleRate, reference: null });
    const overhead = single.map((t, r) => ((small[r] - t) * 1000) / (shards(10) - shards(100)));
    rows.push({ case: 'per-shard overhead (shards of 10 vs 100)', unit: 'ms', graft: median(overhead), reference: null });
    const label = { cold: '1 worker without --model', 1: '1 worker --model', 2: '2 workers --model' } as Record<string, string>;
    for (const c of server ? CASES : []) {
      const perRound = queued[c.key].map((t, r) => single[r] / t);
      rows.push({ case: `embed through the queue, ${label[c.key]} (rounds ${ratios(perRound)}, median ${median(perRound).toFixed(2)})`, unit: 'img/s', graft: images / median(queued[c.key]), reference: +singleRate.toFixed(3), against: 'single process' });
      if (c.key === '1') {
        const warmRounds = warm.map((t, r) => single[r] / t);
        rows.push({ case: `embed through the queue, the same worker on a second job (rounds ${ratios(warmRounds)}, median ${median(warmRounds).toFixed(2)})`, unit: 'img/s', graft: images / median(warm), reference: +singleRate.toFixed(3), against: 'single process' });
      }
    }
    // CPU per image, every process of each side together (the submitting command and its workers).
    const singleMs = msPerImage(singleCpu);
    if (singleMs !== null) {
      rows.push({ case: 'CPU per image, single process', unit: 'ms', graft: singleMs, reference: null });
      for (const c of server ? CASES : []) {
        const ms = msPerImage(queuedCpu[c.key]);
        if (ms !== null) rows.push({ case: `CPU per image through the queue, ${label[c.key]}`, unit: 'ms', graft: ms, reference: +singleMs.toFixed(3), against: 'single process' });
      }
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return rows;
}
