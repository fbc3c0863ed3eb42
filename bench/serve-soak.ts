/**
 * A soak of `graft serve`, local only and bounded in time: a real server process takes valid
 * requests (TorchServe's /predictions, v2 infer with BYTES and with binary FP32) mixed with every
 * bad request of the conformance test (unknown model, wrong datatype and shape, missing inputs,
 * malformed JSON, a corrupt image, an image over the pixel limit, a body over the size limit),
 * from 16 clients, with a burst of 200 at once every 30 s to overload it. It passes when the
 * server never exits, answers nothing 5xx but 503, and its RSS after the warm-up (the first fifth)
 * grows less than 5% (median of the first minute after it against median of the last minute).
 *
 *   node --import tsx bench/serve-soak.ts [--minutes 10] [--model <folder>]
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import sharp from 'sharp';
import { startServe } from './serve.ts';
import { median } from './median.ts';

const root = resolve(import.meta.dirname, '..');
const args = process.argv.slice(2);
const value = (name: string) => (args.includes(`--${name}`) ? args[args.indexOf(`--${name}`) + 1] : undefined);
const minutes = Number(value('minutes') ?? 10);
const folder = value('model') ?? join(root, 'test', 'fixtures', 'export', 'model');
const CLIENTS = 16;
const BURST = Number(process.env.SOAK_BURST ?? 200);
const MAX_BODY_MB = 1;
const MAX_PIXELS = 1_000_000;

const ants = join(root, 'assets', 'sample-data', 'hymenoptera-mini', 'val', 'ants');
const jpegs = readdirSync(ants).sort().slice(0, 8).map((f) => readFileSync(join(ants, f)));
const huge = await sharp({ create: { width: 1200, height: 1000, channels: 3, background: '#808080' } }).png().toBuffer();

const server = await startServe([`m=${folder}`, '--max-body-mb', String(MAX_BODY_MB), '--max-pixels', String(MAX_PIXELS), '--max-queue', '64']);
const { url, child } = server;
let exitCode: number | null | undefined;
void server.exited.then((code) => { exitCode = code; });

const pick = <T>(xs: readonly T[]) => xs[Math.floor(Math.random() * xs.length)];
const b64 = (b: Buffer) => b.toString('base64');
const json = (body: unknown) => ({ method: 'POST', headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) });
const fp32 = new Float32Array(3 * 224 * 224).fill(0.25);
const binaryHeader = Buffer.from(JSON.stringify({ inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 3, 224, 224], parameters: { binary_data_size: fp32.byteLength } }] }));

/** [kind, path, init, expected statuses]: 503 is always acceptable (overload). */
const requests: [string, string, () => RequestInit, number[]][] = [
  ['predictions', '/predictions/m', () => ({ method: 'POST', body: pick(jpegs) }), [200]],
  ['v2 bytes', '/v2/models/m/infer', () => json({ inputs: [{ name: 'input', datatype: 'BYTES', shape: [2], data: [b64(pick(jpegs)), b64(pick(jpegs))] }], outputs: [{ name: 'probabilities', parameters: { classification: 2 } }] }), [200]],
  ['v2 fp32 binary', '/v2/models/m/infer', () => ({ method: 'POST', body: Buffer.concat([binaryHeader, Buffer.from(fp32.buffer)]), headers: { 'inference-header-content-length': String(binaryHeader.length) } }), [200]],
  ['unknown model', '/v2/models/nope/infer', () => json({ inputs: [] }), [404]],
  ['wrong datatype', '/v2/models/m/infer', () => json({ inputs: [{ name: 'input', datatype: 'INT8', shape: [1], data: [1] }] }), [400]],
  ['wrong shape', '/v2/models/m/infer', () => json({ inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 3, 8, 8], data: new Array(192).fill(0) }] }), [400]],
  ['missing inputs', '/v2/models/m/infer', () => json({}), [400]],
  ['malformed JSON', '/v2/models/m/infer', () => json('{"inputs": [{"name": '), [400]],
  ['corrupt image', '/predictions/m', () => ({ method: 'POST', body: pick(jpegs).subarray(0, 400) }), [400]],
  ['over the pixel limit', '/predictions/m', () => ({ method: 'POST', body: huge }), [413]],
  ['body over the limit', '/predictions/m', () => ({ method: 'POST', body: Buffer.alloc(MAX_BODY_MB * 1024 * 1024 + 10, 7) }), [413]],
];

const counts = new Map<string, number>();
const unexpected: string[] = [];
let fetchErrors = 0;
const count = (key: string) => counts.set(key, (counts.get(key) ?? 0) + 1);

async function send(): Promise<void> {
  const [kind, path, init, ok] = pick(requests);
  try {
    const r = await fetch(`${url}${path}`, init());
    await r.arrayBuffer();
    count(`${kind} ${r.status}`);
    if (!ok.includes(r.status) && r.status !== 503 && unexpected.length < 20) unexpected.push(`${kind}: ${r.status}`);
  } catch (error) {
    // A body over the limit is refused as soon as its Content-Length is read; a client still
    // writing it may see the connection close instead of the 413. Refused either way.
    const code = (error as { cause?: { code?: string } }).cause?.code;
    if (kind === 'body over the limit' && (code === 'EPIPE' || code === 'ECONNRESET')) {
      count(`${kind} closed while sending`);
      return;
    }
    fetchErrors++;
    if (process.env.SOAK_DEBUG) process.stderr.write(`${((Date.now() - started) / 1000).toFixed(1)} s ${kind}: ${String((error as { cause?: Error }).cause)}\n`);
    if (unexpected.length < 20) unexpected.push(`${kind}: ${(error as Error).message} (${String((error as { cause?: Error }).cause?.message ?? "")})`);
  }
}

function rssMb(): number {
  const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024;
}

const started = Date.now();
const end = Date.now() + minutes * 60_000;
const warmUpEnd = Date.now() + minutes * 60_000 / 5;
const samples: { t: number; rss: number; heap: number }[] = [];
let warmRss = 0;
/** The server's JavaScript heap in use, from its own metrics. */
async function heapMb(): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return Number(/^graft_process_nodejs_heap_size_used_bytes (\S+)$/m.exec(text)?.[1] ?? NaN) / 2 ** 20;
}
const sampler = setInterval(async () => {
  if (exitCode !== undefined) return;
  const rss = rssMb();
  samples.push({ t: Date.now(), rss, heap: await heapMb().catch(() => NaN) });
}, 5000);
const bursts: Promise<unknown>[] = [];
const burster = setInterval(() => { bursts.push(Promise.all(Array.from({ length: BURST }, send))); }, 30_000);

await Promise.all(Array.from({ length: CLIENTS }, async () => {
  while (Date.now() < end && exitCode === undefined) await send();
}));
clearInterval(burster);
// Shutdown resets connections not yet accepted: every request is answered before SIGTERM.
await Promise.all(bursts);
clearInterval(sampler);
const alive = exitCode === undefined;
const finalRss = alive ? rssMb() : 0;
// RSS moves by tens of MB from one sample to the next (allocator arenas of the worker threads):
// growth compares the median of the first minute after warm-up with the median of the last minute.
const afterWarm = samples.filter((s) => s.t >= warmUpEnd);
const firstMinute = afterWarm.filter((s) => s.t < afterWarm[0].t + 60_000).map((s) => s.rss);
const lastMinute = afterWarm.filter((s) => s.t > afterWarm[afterWarm.length - 1].t - 60_000).map((s) => s.rss);
warmRss = median(firstMinute);
const growth = (median(lastMinute) - warmRss) / warmRss;
const code = await server.stop();
const serverErrors = [...counts].filter(([k]) => /\b5\d\d$/.test(k) && !k.endsWith(' 503')).reduce((a, [, n]) => a + n, 0);
const summary = {
  minutes, requests: [...counts.values()].reduce((a, b) => a + b, 0), by_kind_and_status: Object.fromEntries([...counts].sort()),
  fetch_errors: fetchErrors, server_errors_other_than_503: serverErrors, unexpected, crashed: !alive, exit_code_on_sigterm: code,
  rss_mb_after_warm_up_median: +warmRss.toFixed(1), rss_mb_last_minute_median: +median(lastMinute).toFixed(1), rss_mb_final: +finalRss.toFixed(1), rss_growth: +growth.toFixed(4),
  rss_mb_samples: samples.map((s) => +s.rss.toFixed(0)),
  heap_mb_samples: samples.map((s) => +s.heap.toFixed(0)),
};
process.stdout.write(`${JSON.stringify(summary, null, 1)}\n`);
const passed = alive && code === 0 && serverErrors === 0 && fetchErrors === 0 && unexpected.length === 0 && growth < 0.05;
process.stderr.write(passed ? 'soak passed\n' : 'soak FAILED\n');
process.exit(passed ? 0 : 1);
