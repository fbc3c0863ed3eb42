// A graft worker with `--executor inline` runs ONNX Runtime on its event loop's thread: BullMQ
// renews a shard's lock only on turns of that loop, so a shard that lasts several lock durations
// shows whether the renewals still happen between batches. If one were missed, the lock would
// lapse, the stalled-job check would take the live worker's shard for a dead one's, and the shard
// would start a second time (here or in the other worker) with a 'stalled' event.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { QueueEvents } from 'bullmq';
import { INT8_BACKBONE } from './support/small-dataset.ts';
import { colorDataset } from './support/color-dataset.ts';
import { redisServerBinary, startRedis } from './support/redis-server.ts';
import { QUEUE_NAME, redisConnection } from '../src/queue/connection.ts';

const root = resolve(import.meta.dirname, '..');
const redis = redisServerBinary();
const LOCK_MS = 1500;

function graft(args: string[]): { child: ChildProcess; log: () => string; done: Promise<number | null> } {
  const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'src', 'cli', 'main.ts'), ...args], { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr!.on('data', (d) => { log += d; });
  return { child, log: () => log, done: new Promise((ok) => child.on('exit', ok)) };
}

async function waitFor(w: { log: () => string }, pattern: RegExp): Promise<void> {
  while (!pattern.test(w.log())) await new Promise((r) => setTimeout(r, 50));
}

test('an inline worker keeps its lock through a shard that lasts several lock durations', { skip: redis ? false : 'redis-server is not installed (.ci/run installs it)', timeout: 300_000 }, async () => {
  const tmp = mkdtempSync(join(tmpdir(), 'graft-queue-lock-'));
  const server = await startRedis(redis!);
  const events = new QueueEvents(QUEUE_NAME, { connection: redisConnection(server.url) });
  const stalled: string[] = [];
  events.on('stalled', ({ jobId }) => stalled.push(jobId));
  const workers = [0, 1].map(() => graft(['worker', '--queue', server.url, '--lock-ms', String(LOCK_MS), '--executor', 'inline']));
  try {
    await events.waitUntilReady();
    // 240 training images through 6 augmented views in one shard: 1440 backbone runs, 45 batches.
    const data = await colorDataset(join(tmp, 'data'), { train: 120, val: 10 });
    await Promise.all(workers.map((w) => waitFor(w, /waiting for shards/)));
    const submit = graft(['embed', data, '--model', INT8_BACKBONE, '--augment', 'light', '--views', '6', '--shard-size', '1000', '--quiet', '--out', join(tmp, 'features'), '--queue', server.url]);
    assert.equal(await submit.done, 0, submit.log());

    const log = workers.map((w) => w.log()).join('');
    const started = [...log.matchAll(/shard ([0-9a-f]{32}) started \(embed, (\d+) images, attempt (\d+)\)/g)];
    assert.deepEqual(started.map((m) => [m[2], m[3]]).sort(), [['20', '1'], ['240', '1']], `each shard started once, at its first attempt:\n${log}`);
    const long = started.find((m) => m[2] === '240')![1];
    const seconds = Number(new RegExp(`shard ${long} done in ([0-9.]+) s`).exec(log)?.[1]);
    assert.ok(seconds * 1000 > 2 * LOCK_MS, `the shard should outlast two locks of ${LOCK_MS} ms to show anything, but took ${seconds} s`);
    assert.deepEqual(stalled, [], 'no shard was taken for a dead worker\'s');
  } finally {
    for (const w of workers) w.child.kill('SIGTERM');
    await Promise.all(workers.map((w) => w.done));
    await events.close();
    await server.stop();
    rmSync(tmp, { recursive: true, force: true });
  }
});
