/**
 * `npm run bench -- --only scale`: `graft embed` through the BullMQ queue against the
 * single-process command on the same generated images, in real processes: images/s of one
 * worker against one process (the queue's cost, goal >= 0.95), the per-shard overhead (small
 * shards against large ones, in one process), and two workers on this machine, as measured.
 * Needs redis-server; without it the queue cases are left out.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { colorDataset } from '../test/support/color-dataset.ts';
import { redisServerBinary, startRedis } from '../test/support/redis-server.ts';

const root = resolve(import.meta.dirname, '..');
const BACKBONE = `onnx:${join(root, 'assets', 'backbones', 'mobilenetv2-12-int8.onnx')}`;

function graft(args: string[]): { child: ChildProcess; done: Promise<number | null>; stderr: () => string } {
  const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'src', 'cli', 'main.ts'), ...args], { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d) => { stderr += d; });
  return { child, done: new Promise((ok) => child.on('exit', ok)), stderr: () => stderr };
}

async function timed(args: string[]): Promise<number> {
  const t0 = performance.now();
  const run = graft(args);
  if ((await run.done) !== 0) throw new Error(`graft ${args.join(' ')} failed: ${run.stderr()}`);
  return (performance.now() - t0) / 1000;
}

async function workers(url: string, n: number): Promise<{ child: ChildProcess; done: Promise<number | null> }[]> {
  const started = Array.from({ length: n }, () => graft(['worker', '--queue', url]));
  await Promise.all(started.map((w) => new Promise<void>((ok) => {
    const t = setInterval(() => { if (/waiting for shards/.test(w.stderr())) { clearInterval(t); ok(); } }, 50);
  })));
  return started;
}

export interface ScaleRow { case: string; unit: string; graft: number; reference: number | null; against?: string }

export async function benchScale(o: { images?: number } = {}): Promise<ScaleRow[]> {
  const perClass = Math.round((o.images ?? 600) / 2);
  const tmp = mkdtempSync(join(tmpdir(), 'graft-bench-scale-'));
  const rows: ScaleRow[] = [];
  try {
    const data = await colorDataset(join(tmp, 'data'), { train: Math.round(perClass * 0.8), val: perClass - Math.round(perClass * 0.8) });
    const images = perClass * 2;
    const embed = (out: string, extra: string[] = []) => ['embed', data, '--model', BACKBONE, '--augment', 'none', '--quiet', '--out', join(tmp, out), ...extra];
    // A first run loads the files into the page cache, so every measured run reads them alike.
    await timed(embed('warm'));
    const single = await timed(embed('single', ['--shard-size', '100']));
    rows.push({ case: `embed single process (${images} images)`, unit: 'img/s', graft: images / single, reference: null });
    const small = await timed(embed('small', ['--shard-size', '10']));
    const shards = (size: number) => Math.ceil((perClass * 2 * 0.8) / size) + Math.ceil((perClass * 2 * 0.2) / size);
    rows.push({ case: 'per-shard overhead (shards of 10 vs 100)', unit: 'ms', graft: ((small - single) * 1000) / (shards(10) - shards(100)), reference: null });
    const redis = redisServerBinary();
    if (!redis) return rows;
    const server = await startRedis(redis);
    try {
      for (const n of [1, 2]) {
        const ws = await workers(server.url, n);
        const queued = await timed(embed(`queued-${n}`, ['--shard-size', '100', '--queue', server.url]));
        rows.push({ case: `embed through the queue, ${n} worker${n > 1 ? 's' : ''}`, unit: 'img/s', graft: images / queued, reference: images / single, against: 'single process' });
        for (const w of ws) w.child.kill('SIGTERM');
        await Promise.all(ws.map((w) => w.done));
      }
    } finally {
      await server.stop();
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return rows;
}
