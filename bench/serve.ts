/**
 * `graft serve` under load: a real `graft serve` process on 127.0.0.1 and autocannon as the load
 * generator, JPEG requests to POST /predictions/{name} at concurrency 1, 8 and 32, for a
 * MobileNetV2 and a ResNet-50 model folder (2 classes, torchvision's random init: speed does not
 * depend on the weights). The reference, measured in the same run on the same machine, is raw
 * ONNX Runtime on the same model's exported graph: images/s of batched runs (the throughput
 * ceiling, no decoding) and the time of one single-image forward (the latency floor).
 *
 *   npm run bench -- --only serve [--seconds 10]
 *   node --import tsx bench/serve.ts [--seconds 10] [--archs mobilenet_v2,resnet50]   # JSON lines
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as ort from 'onnxruntime-node';
import autocannon from 'autocannon';
import { createModel } from '../src/models/registry.ts';
import { saveModelFolder } from '../src/artifacts/model-folder.ts';
import { exportOnnx } from '../src/artifacts/export-onnx.ts';
import { IMAGENET_EVAL } from '../src/data/transforms/presets.ts';
import type { Staged } from '../src/models/stages.ts';

const root = resolve(import.meta.dirname, '..');
const THREADS = 2;
const RAW_BATCH = 16;
const CONCURRENCY = [1, 8, 32];

/** ratio = graft / reference. */
export interface ServeRow { case: string; unit: string; graft: number; reference: number | null; against: string; ratio: number | null }

/** A photo of ordinary size: hymenoptera's own when the full dataset is beside the repository. */
function sampleJpeg(): { bytes: Buffer; name: string } {
  const full = resolve(root, '..', 'shared', 'data', 'hymenoptera', 'val', 'ants');
  const dir = existsSync(full) ? full : join(root, 'assets', 'sample-data', 'hymenoptera-mini', 'val', 'ants');
  const name = readdirSync(dir).filter((f) => f.endsWith('.jpg')).sort()[0];
  return { bytes: readFileSync(join(dir, name)), name };
}

async function modelFolder(arch: string, dir: string): Promise<void> {
  const model = await createModel(arch, { weights: null, numClasses: 2 }) as Staged;
  await saveModelFolder(dir, model, {
    model: arch, pretrained: null, classes: ['ants', 'bees'], preprocessing: { ...IMAGENET_EVAL, mean: [...IMAGENET_EVAL.mean], std: [...IMAGENET_EVAL.std] },
    training: { note: 'random init, for the serve benchmark' }, metrics: {}, history: [],
  });
}

/** Raw ONNX Runtime on the exported graph: batched images/s and one image's forward time. */
async function rawOrt(dir: string, seconds: number): Promise<{ imagesPerSecond: number; singleMs: number }> {
  const bytes = await exportOnnx(dir, { softmax: true, verify: false });
  const session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: THREADS, interOpNumThreads: 1, graphOptimizationLevel: 'all', executionMode: 'sequential' });
  const run = (n: number) => session.run({ input: new ort.Tensor('float32', new Float32Array(n * 3 * 224 * 224).fill(0.5), [n, 3, 224, 224]) });
  for (let i = 0; i < 3; i++) await run(RAW_BATCH);
  let images = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < seconds * 1000) {
    await run(RAW_BATCH);
    images += RAW_BATCH;
  }
  const imagesPerSecond = images / ((performance.now() - t0) / 1000);
  for (let i = 0; i < 3; i++) await run(1);
  const singles: number[] = [];
  const t1 = performance.now();
  while (performance.now() - t1 < Math.max(2, seconds / 3) * 1000) {
    const s = performance.now();
    await run(1);
    singles.push(performance.now() - s);
  }
  await session.release();
  singles.sort((a, b) => a - b);
  return { imagesPerSecond, singleMs: singles[Math.floor(singles.length / 2)] };
}

/**
 * Starts `graft serve <args> --port 0` as a process and resolves once it listens, with its URL;
 * `exited` settles with its exit code, `stop` sends SIGTERM and waits for it.
 */
export async function startServe(args: string[]): Promise<{ url: string; child: ChildProcess; exited: Promise<number | null>; stop: () => Promise<number | null> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'src', 'cli', 'main.ts'), 'serve', ...args, '--port', '0'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
  const url = await new Promise<string>((done, fail) => {
    child.stderr!.on('data', (d) => {
      stderr += d;
      const m = /listening on (http:\/\/\S+)/.exec(stderr);
      if (m) done(m[1]);
    });
    child.on('exit', (code) => fail(new Error(`graft serve exited ${code}: ${stderr}`)));
  });
  return { url, child, exited, stop: () => { child.kill('SIGTERM'); return exited; } };
}

function load(url: string, body: Buffer, connections: number, seconds: number): Promise<autocannon.Result> {
  return new Promise((done, fail) => {
    autocannon({ url, method: 'POST', body, headers: { 'content-type': 'image/jpeg' }, connections, duration: seconds, timeout: 60 }, (error, result) => (error ? fail(error) : done(result)));
  });
}

export async function benchServe(opts: { seconds?: number; archs?: string[] } = {}): Promise<ServeRow[]> {
  const seconds = opts.seconds ?? 10;
  const archs = opts.archs ?? ['mobilenet_v2', 'resnet50'];
  const { bytes } = sampleJpeg();
  const rows: ServeRow[] = [];
  const work = mkdtempSync(join(tmpdir(), 'graft-bench-serve-'));
  try {
    for (const arch of archs) {
      const dir = join(work, arch);
      await modelFolder(arch, dir);
      const raw = await rawOrt(dir, seconds);
      const server = await startServe([`${arch}=${dir}`, '--max-batch', String(RAW_BATCH), '--max-queue', '256']);
      try {
        const path = `${server.url}/predictions/${arch}`;
        await load(path, bytes, 8, 2); // warm-up: sessions, decoders, JIT
        for (const c of CONCURRENCY) {
          const r = await load(path, bytes, c, seconds);
          const errors = r.errors + r.timeouts + r.non2xx;
          rows.push({ case: `serve ${arch} c${c} throughput`, unit: 'req/s', graft: +r.requests.average.toFixed(1), reference: +raw.imagesPerSecond.toFixed(1), against: `raw ORT b${RAW_BATCH} img/s`, ratio: +(r.requests.average / raw.imagesPerSecond).toFixed(3) });
          rows.push({ case: `serve ${arch} c${c} p50`, unit: 'ms', graft: r.latency.p50, reference: +raw.singleMs.toFixed(2), against: 'raw ORT b1 forward ms', ratio: +(r.latency.p50 / raw.singleMs).toFixed(3) });
          rows.push({ case: `serve ${arch} c${c} p99`, unit: 'ms', graft: r.latency.p99, reference: +raw.singleMs.toFixed(2), against: 'raw ORT b1 forward ms', ratio: +(r.latency.p99 / raw.singleMs).toFixed(3) });
          rows.push({ case: `serve ${arch} c${c} errors`, unit: 'count', graft: errors, reference: null, against: `of ${r.requests.total} requests`, ratio: null });
        }
      } finally {
        const code = await server.stop();
        if (code !== 0) throw new Error(`graft serve exited ${code} on SIGTERM`);
      }
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return rows;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2);
  const value = (name: string) => (args.includes(`--${name}`) ? args[args.indexOf(`--${name}`) + 1] : undefined);
  const rows = await benchServe({ seconds: Number(value('seconds') ?? 10), archs: value('archs')?.split(',') });
  for (const r of rows) process.stdout.write(`${JSON.stringify(r)}\n`);
}
