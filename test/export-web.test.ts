import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { decodeImage } from '../src/data/decode.ts';
import { exportOnnx } from '../src/artifacts/export.ts';
import { deterministicInput } from './support/deterministic.ts';
import { maxAbsDiff, trainedModelFolder } from './fixtures/export/trained-model.ts';

/**
 * An exported model in a browser: onnxruntime-web (single-threaded wasm, loaded from a local
 * server, as a web app would serve it) runs the same file in headless Chromium, from a real page,
 * and must give what onnxruntime-node gives, with and without in-graph preprocessing.
 */

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const ortWebDist = path.join(repoRoot, 'node_modules', 'onnxruntime-web', 'dist');
const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const browserSkip = existsSync(CHROMIUM) ? false : `${CHROMIUM} not found: install Debian's chromium (apt-get install chromium) to run the browser checks`;

const PAGE = `<!doctype html><meta charset="utf-8"><title>graft export check</title>
<script type="module">
  import * as ort from '/ort/ort.wasm.min.mjs';
  ort.env.wasm.wasmPaths = '/ort/';
  ort.env.wasm.numThreads = 1;
  window.ort = ort;
  window.ortReady = true;
</script>`;

const TYPES: Record<string, string> = { '.html': 'text/html', '.mjs': 'text/javascript', '.js': 'text/javascript', '.wasm': 'application/wasm' };

/** Serves the page, onnxruntime-web's files under /ort/, and the given blobs under their paths. */
async function serve(t: { after: (fn: () => unknown) => void }, blobs: Map<string, Uint8Array>): Promise<string> {
  const server: Server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    try {
      let body: Uint8Array | string;
      let type = 'application/octet-stream';
      if (url.pathname === '/') {
        body = PAGE;
        type = TYPES['.html'];
      } else if (url.pathname.startsWith('/ort/') && !url.pathname.includes('..')) {
        body = await readFile(path.join(ortWebDist, url.pathname.slice('/ort/'.length)));
        type = TYPES[path.extname(url.pathname)] ?? type;
      } else if (blobs.has(url.pathname)) {
        body = blobs.get(url.pathname)!;
      } else {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'content-type': type }).end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  // Chromium keeps connections alive, and it closes after the server would wait for them.
  t.after(() => new Promise((resolve) => { server.close(resolve); server.closeAllConnections(); }));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
}

interface WebRun { model: string; input: string; dtype: 'float32' | 'uint8'; dims: number[]; output: string }

test('onnxruntime-web in Chromium gives onnxruntime-node results for the exported model', { skip: browserSkip }, async (t) => {
  const dir = await trainedModelFolder(t);
  const plain = await exportOnnx(dir);
  const withPre = await exportOnnx(dir, { withPreprocessing: true, softmax: true, verify: false });
  const photo = await decodeImage(path.join(repoRoot, 'test', 'fixtures', 'data', 'images', 'rgb.jpg'));

  const blobs = new Map<string, Uint8Array>([['/plain.onnx', plain], ['/pre.onnx', withPre]]);
  const runs: WebRun[] = [];
  const expected: Float32Array[] = [];
  const nodePlain = await ort.InferenceSession.create(plain);
  const nodePre = await ort.InferenceSession.create(withPre);
  t.after(() => Promise.all([nodePlain.release(), nodePre.release()]));
  for (const batch of [1, 5]) {
    const dims = [batch, 3, 224, 224];
    const input = deterministicInput(dims, 40 + batch);
    blobs.set(`/input-${batch}.bin`, new Uint8Array(input.buffer));
    runs.push({ model: '/plain.onnx', input: `/input-${batch}.bin`, dtype: 'float32', dims, output: 'logits' });
    expected.push((await nodePlain.run({ input: new ort.Tensor('float32', input, dims) })).logits.data as Float32Array);
  }
  const photoDims = [1, photo.height, photo.width, 3];
  blobs.set('/photo.bin', photo.data);
  runs.push({ model: '/pre.onnx', input: '/photo.bin', dtype: 'uint8', dims: photoDims, output: 'probabilities' });
  expected.push((await nodePre.run({ input: new ort.Tensor('uint8', photo.data, photoDims) })).probabilities.data as Float32Array);

  const base = await serve(t, blobs);
  const launched = performance.now();
  const { chromium } = await import('playwright-core');
  const profile = path.join(path.dirname(dir), 'chromium-profile');
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
  t.after(() => context.close());
  const page = context.pages()[0] ?? (await context.newPage());
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('requestfailed', (request) => problems.push(`request failed: ${request.url()}`));
  await page.goto(base, { waitUntil: 'load' });
  await page.waitForFunction(() => (window as unknown as { ortReady?: boolean }).ortReady === true, undefined, { timeout: 30_000 });
  t.diagnostic(`Chromium up and onnxruntime-web loaded in ${((performance.now() - launched) / 1000).toFixed(1)} s`);
  const evaluated = performance.now();

  const results = await page.evaluate(async (list: WebRun[]) => {
    const ortWeb = (window as unknown as { ort: typeof import('onnxruntime-web') }).ort;
    const out: { data: number[]; dims: number[]; ms: number }[] = [];
    for (const r of list) {
      const session = await ortWeb.InferenceSession.create(r.model);
      const bytes = await (await fetch(r.input)).arrayBuffer();
      const data = r.dtype === 'float32' ? new Float32Array(bytes) : new Uint8Array(bytes);
      const started = performance.now();
      const result = await session.run({ input: new ortWeb.Tensor(r.dtype, data, r.dims) });
      const ms = performance.now() - started;
      out.push({ data: Array.from(result[r.output].data as Float32Array), dims: [...result[r.output].dims], ms });
      await session.release();
    }
    return out;
  }, runs);

  t.diagnostic(`sessions created and run in the page in ${((performance.now() - evaluated) / 1000).toFixed(1)} s`);
  assert.deepEqual(problems, []);
  results.forEach((r, i) => {
    const diff = maxAbsDiff(r.data, expected[i]);
    t.diagnostic(`${runs[i].model} ${JSON.stringify(runs[i].dims)}: max |ORT-web - ORT-node| ${diff.toExponential(2)} (${r.ms.toFixed(0)} ms in the page)`);
    assert.deepEqual(r.dims, [runs[i].dims[0], 3]);
    assert.ok(diff <= 1e-4, `${runs[i].model} ${JSON.stringify(runs[i].dims)}: difference ${diff}`);
  });
});
