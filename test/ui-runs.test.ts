// graft ui's runs against a real server on a free port: a short frozen run on a tiny copy of the
// sample data with the bundled backbone, watched over the event stream; the run shown again after
// a restart; inspect; a test image answered as the predict job answers it; exports (the ONNX one
// run by onnxruntime-node); graft serve's server started for the model; a stopped run.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as ort from 'onnxruntime-node';
import { decodeImage } from '../src/data/decode.ts';
import { jobs } from '../src/index.ts';
import { serve } from '../src/serve/index.ts';
import type { ExportInfo, Inspection, RunDetail, RunInfo, ServeInfo, TestPrediction, UiEvent } from '../src/ui/api.ts';
import type { UiOptions } from '../src/ui/index.ts';
import { openEventStream, type EventLog } from './support/event-stream.ts';
import { startUiClient, type UiClient } from './support/ui-client.ts';
import { writeLargePng } from './support/large-image.ts';

const sample = resolve(import.meta.dirname, '..', 'assets', 'sample-data', 'hymenoptera-mini');
const dir = mkdtempSync(join(tmpdir(), 'graft-ui-runs-'));
const projectDir = join(dir, 'project');
const PER_CLASS = 10;
for (const cls of ['ants', 'bees']) {
  mkdirSync(join(projectDir, 'data', cls), { recursive: true });
  const from = join(sample, 'train', cls);
  for (const f of readdirSync(from).sort().slice(0, PER_CLASS)) copyFileSync(join(from, f), join(projectDir, 'data', cls, f));
}
// The same photo in both classes: a near-duplicate across classes the inspection must find.
const antPhoto = readdirSync(join(projectDir, 'data', 'ants')).sort()[0];
copyFileSync(join(projectDir, 'data', 'ants', antPhoto), join(projectDir, 'data', 'bees', 'copy-of-an-ant.jpg'));
const testImage = join(sample, 'val', 'bees', readdirSync(join(sample, 'val', 'bees')).sort()[0]);

const serveModel: UiOptions['serveModel'] = async (modelDir) => {
  const s = await serve([{ model: modelDir }], { port: 0, log: () => {} });
  return { url: s.url, close: () => s.close() };
};

let ui: UiClient;
let events: EventLog;
let run: RunInfo;

before(async () => {
  ui = await startUiClient({ project: projectDir, serveModel, maxPixels: 1_000_000 });
  events = await openEventStream(`${ui.server.origin}/api/events`, ui.server.token);
});
after(async () => {
  events?.close();
  await ui?.server.close();
  rmSync(dir, { recursive: true, force: true });
});

const runDone = (id: string) => (e: UiEvent) => e.type === 'run' && e.run.id === id && e.run.status !== 'running';

test('the bundled backbone is the default one; imported backbones and the zoo are listed with its figures', async () => {
  mkdirSync(join(projectDir, 'backbones'));
  symlinkSync(resolve(import.meta.dirname, '..', 'assets', 'backbones', 'mobilenetv2-12-int8.onnx'), join(projectDir, 'backbones', 'mine.onnx'));
  const models = (await ui.json<{ spec: string; isDefault: boolean; needsDownload: boolean; params: number | null }[]>('/api/models')).body;
  const defaults = models.filter((m) => m.isDefault);
  assert.equal(defaults.length, 1);
  assert.match(defaults[0].spec, /^onnx:.*assets[\\/]backbones[\\/]mobilenetv2-12-int8\.onnx$/);
  assert.equal(defaults[0].needsDownload, false);
  assert.ok(models.some((m) => m.spec === `onnx:${join(projectDir, 'backbones', 'mine.onnx')}` && !m.isDefault));
  const resnet = models.find((m) => m.spec === 'resnet18');
  assert.ok(resnet && resnet.params! > 1e7 && typeof resnet.needsDownload === 'boolean');
});

test('a frozen run trains on the project data with its progress streamed, one run at a time', { timeout: 120_000 }, async () => {
  const bad = await ui.post('/api/runs', { config: { epochs: 0 } });
  assert.equal(bad.status, 400);
  assert.match((bad.body as { error: string }).error, /epochs/);
  assert.equal((await ui.post('/api/runs', { config: { nonsense: 1 } })).status, 400);
  assert.equal((await ui.post('/api/runs', { config: {}, name: '../x' })).status, 400);
  for (const model of ['no_such_net', '../runs', 'onnx:/no/such/file.onnx']) {
    const r = await ui.post<{ error: string }>('/api/runs', { config: { model } });
    assert.equal(r.status, 400, model);
    assert.match(r.body.error, /config\.model/);
  }
  mkdirSync(join(projectDir, 'data', 'empty'));
  const withEmpty = await ui.post<{ error: string }>('/api/runs', { config: { epochs: 1 } });
  assert.equal(withEmpty.status, 400);
  assert.match(withEmpty.body.error, /"empty" has no images/);
  rmSync(join(projectDir, 'data', 'empty'), { recursive: true });
  const started = await ui.post<RunInfo>('/api/runs', { config: { epochs: 2, batchSize: 4, views: 2 } });
  assert.equal(started.status, 201, JSON.stringify(started.body));
  run = started.body;
  assert.equal(run.status, 'running');
  assert.match(run.id, /^\d{8}-\d{6}-[0-9a-f]{4}$/);
  assert.equal((await ui.post('/api/runs', { config: { epochs: 1 } })).status, 409);
  // A page opened while the run goes hears of it first thing.
  const late = await openEventStream(`${ui.server.origin}/api/events`, ui.server.token);
  const first = await late.waitFor((e) => e.type === 'run');
  late.close();
  assert.equal(first.type === 'run' && first.run.id, run.id);
  const end = await events.waitFor(runDone(run.id)) as Extract<UiEvent, { type: 'run' }>;
  assert.equal(end.run.status, 'done', end.run.error ?? '');
  const mine = events.events.filter((e) => 'run' in e && (typeof e.run === 'string' ? e.run : e.run.id) === run.id);
  assert.equal(mine.filter((e) => e.type === 'epoch').length, 2);
  assert.ok(mine.some((e) => e.type === 'step'));
  const progress = mine.flatMap((e) => (e.type === 'run' && e.run.progress ? [e.run.progress] : []));
  assert.ok(progress.some((p) => p.phase === 'features' && p.features !== null && p.features.total > 0), 'feature extraction progress');
  assert.ok(progress.some((p) => p.step !== null && p.epoch >= 1 && p.epochs === 2), 'step progress');
  assert.ok(progress.some((p) => p.imagesPerSecond !== null && p.imagesPerSecond > 0 && p.etaSeconds !== null && p.etaSeconds >= 0), 'images/s and ETA');
  const detail = (await ui.json<RunDetail>(`/api/runs/${run.id}`)).body;
  assert.deepEqual(detail.classes, ['ants', 'bees']);
  assert.equal(detail.history.length, 2);
  assert.ok(detail.steps.length > 0 && detail.steps.every((s) => Number.isFinite(s.loss)));
  assert.equal(detail.config.epochs, 2);
  assert.ok(detail.bestAcc !== null && detail.bestEpoch !== null);
  assert.ok(existsSync(join(projectDir, 'runs', run.id, 'graft.json')));
  assert.ok(existsSync(join(projectDir, '.graft', 'runs', `${run.id}.jsonl`)));
  assert.ok(readdirSync(join(projectDir, '.graft', 'cache')).length > 0, 'the feature cache is the project\'s');
});

test('a restarted server shows the run as it was, and a run whose server died as stopped', async () => {
  const log = join(projectDir, '.graft', 'runs', 'crashed.jsonl');
  const config = (await ui.json<RunDetail>(`/api/runs/${run.id}`)).body.config;
  writeFileSync(log, `${JSON.stringify({ t: 'start', id: 'crashed', config, createdAt: '2020-01-01T00:00:00.000Z', pid: 1 })}\n`);
  const again = await startUiClient({ project: projectDir });
  try {
    const listed = (await again.json<RunInfo[]>('/api/runs')).body;
    assert.deepEqual(listed.map((r) => [r.id, r.status]), [[run.id, 'done'], ['crashed', 'failed']]);
    assert.match(listed[1].error!, /server stopped/);
    const before = (await ui.json<RunDetail>(`/api/runs/${run.id}`)).body;
    const after = (await again.json<RunDetail>(`/api/runs/${run.id}`)).body;
    assert.deepEqual(after.history, before.history);
    assert.deepEqual(after.steps, before.steps);
    assert.equal(after.bestAcc, before.bestAcc);
  } finally {
    await again.server.close();
    rmSync(log);
  }
});

test('inspect: validation predictions by id, confusion, per-class scores, and the duplicate across classes', { timeout: 120_000 }, async () => {
  const r = await ui.json<Inspection>(`/api/runs/${run.id}/inspect`);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  const x = r.body;
  assert.deepEqual(x.classes, ['ants', 'bees']);
  const total = x.confusion.flat().reduce((a, b) => a + b, 0);
  assert.equal(total, x.predictions.length);
  assert.ok(total >= 4);
  for (const p of x.predictions) assert.ok(existsSync(join(projectDir, 'data', p.id)), p.id);
  assert.deepEqual(x.perClass.map((c) => c.class), ['ants', 'bees']);
  assert.equal(x.perClass.reduce((s, c) => s + c.support, 0), total);
  assert.ok(x.confidentlyWrong.every((p, i) => p.actual !== p.predicted && (i === 0 || p.prob <= x.confidentlyWrong[i - 1].prob)));
  const dup = x.nearDuplicates.find((d) => [d.a, d.b].sort().join() === [`ants/${antPhoto}`, 'bees/copy-of-an-ant.jpg'].join());
  assert.ok(dup, JSON.stringify(x.nearDuplicates));
  assert.ok(dup.similarity > 0.999);
  for (const m of x.likelyMislabeled) assert.ok(m.agreement >= 0.8 && m.label !== m.suggested);
  const cache = join(projectDir, '.graft', 'runs', `${run.id}.inspect.json`);
  assert.ok(existsSync(cache));
  assert.ok(existsSync(join(projectDir, '.graft', 'features', run.id, 'manifest.json')), 'features computed by the embed job');
  assert.deepEqual((await ui.json<Inspection>(`/api/runs/${run.id}/inspect`)).body, x);
});

test('a test image gets exactly what the predict job gives with the run\'s model folder', { timeout: 60_000 }, async () => {
  const raw = await ui.json<TestPrediction>(`/api/runs/${run.id}/predict`, { method: 'POST', body: readFileSync(testImage), headers: { 'content-type': 'image/jpeg' } });
  assert.equal(raw.status, 200, JSON.stringify(raw.body));
  const form = new FormData();
  form.append('image', new Blob([readFileSync(testImage)]), 'bee.jpg');
  const multipart = await ui.json<TestPrediction>(`/api/runs/${run.id}/predict`, { method: 'POST', body: form });
  const [want] = await jobs.predict(join(projectDir, 'runs', run.id), [testImage], { topk: 5 });
  for (const got of [raw.body, multipart.body]) {
    assert.deepEqual(got.top.map((t) => t.label), want.top.map((t) => t.label));
    got.top.forEach((t, i) => assert.ok(Math.abs(t.prob - want.top[i].prob) <= 1e-6, `${t.prob} vs ${want.top[i].prob}`));
  }
  const broken = await ui.json<{ error: string }>(`/api/runs/${run.id}/predict`, { method: 'POST', body: Buffer.from('not an image'), headers: { 'content-type': 'image/jpeg' } });
  assert.equal(broken.status, 400);
  assert.match(broken.body.error, /cannot be decoded/);
  await writeLargePng(join(dir, 'large.png'), 1200, 1000);
  const large = await ui.json<{ error: string }>(`/api/runs/${run.id}/predict`, { method: 'POST', body: readFileSync(join(dir, 'large.png')), headers: { 'content-type': 'image/png' } });
  assert.equal(large.status, 413);
  assert.match(large.body.error, /1200 x 1000 = 1200000 pixels/);
});

test('exports: ONNX with the preprocessing inside runs in onnxruntime-node; the zip and the others download', { timeout: 120_000 }, async () => {
  const onnx = await ui.post<ExportInfo>(`/api/runs/${run.id}/export`, { format: 'onnx' });
  assert.equal(onnx.status, 200, JSON.stringify(onnx.body));
  const model = Buffer.from(await (await ui.call(onnx.body.url)).arrayBuffer());
  assert.equal(model.length, onnx.body.bytes);
  const session = await ort.InferenceSession.create(model);
  const photo = await decodeImage(testImage);
  const out = await session.run({ [session.inputNames[0]]: new ort.Tensor('uint8', photo.data, [1, photo.height, photo.width, 3]) });
  const probs = out[session.outputNames[0]].data as Float32Array;
  await session.release();
  const [want] = await jobs.predict(join(projectDir, 'runs', run.id), [testImage], { topk: 2 });
  // The preprocessing inside the graph is graft's own: the same probabilities as graft predict.
  for (const t of want.top) assert.ok(Math.abs(probs[t.index] - t.prob) <= 1e-5, `${t.label}: ${probs[t.index]} vs ${t.prob}`);
  const pth = await ui.post<{ error: string }>(`/api/runs/${run.id}/export`, { format: 'pytorch' });
  assert.equal(pth.status, 409);
  assert.match(pth.body.error, /imported ONNX backbone/);
  for (const format of ['zip', 'safetensors']) {
    const e = await ui.post<ExportInfo>(`/api/runs/${run.id}/export`, { format });
    assert.equal(e.status, 200, `${format}: ${JSON.stringify(e.body)}`);
    const r = await ui.call(e.body.url);
    assert.match(r.headers.get('content-disposition') ?? '', /attachment/);
    const bytes = Buffer.from(await r.arrayBuffer());
    assert.equal(bytes.length, e.body.bytes);
    if (format === 'zip') assert.equal(bytes.subarray(0, 2).toString(), 'PK');
  }
  assert.equal((await ui.post(`/api/runs/${run.id}/export`, { format: 'tflite' })).status, 400);
  for (const file of ['../graft.json', '.hidden', 'model.onnx']) {
    const r = await ui.call(`/api/runs/${run.id}/download?file=${encodeURIComponent(file)}`);
    assert.equal(r.status, file === 'model.onnx' ? 404 : 400, file);
  }
});

test('serving the model starts graft serve\'s server for the folder; stopping it closes it', { timeout: 60_000 }, async () => {
  const started = await ui.post<ServeInfo>(`/api/runs/${run.id}/serve`, {});
  assert.equal(started.status, 200, JSON.stringify(started.body));
  assert.match(started.body.url, /^http:\/\/127\.0\.0\.1:\d+$/);
  assert.equal((await fetch(`${started.body.url}/v2/health/ready`)).status, 200);
  const answer = await fetch(`${started.body.url}/predictions/${started.body.model}`, { method: 'POST', body: readFileSync(testImage) });
  assert.equal(answer.status, 200);
  assert.deepEqual((await ui.json(`/api/runs/${run.id}/serve`, { method: 'DELETE' })).body, { stopped: true });
  await assert.rejects(fetch(`${started.body.url}/v2/health/ready`));
});

test('a run stopped after its first epoch ends as stopped with that epoch kept', { timeout: 120_000 }, async () => {
  const started = await ui.post<RunInfo>('/api/runs', { config: { epochs: 400, batchSize: 1, views: 2 }, name: 'long-one' });
  assert.equal(started.status, 201, JSON.stringify(started.body));
  await events.waitFor((e) => e.type === 'epoch' && e.run === 'long-one');
  const stopping = await ui.post<RunInfo>('/api/runs/long-one/stop', {});
  assert.equal(stopping.status, 200);
  const end = await events.waitFor(runDone('long-one')) as Extract<UiEvent, { type: 'run' }>;
  assert.equal(end.run.status, 'stopped');
  const detail = (await ui.json<RunDetail>('/api/runs/long-one')).body;
  assert.ok(detail.history.length >= 1 && detail.history.length < 400);
  assert.ok(existsSync(join(projectDir, 'runs', 'long-one', 'graft.json')));
  assert.equal((await ui.post('/api/runs', { config: {}, name: 'long-one' })).status, 409);
  assert.deepEqual((await ui.json('/api/runs/long-one', { method: 'DELETE' })).body, { deleted: true });
  assert.ok(!existsSync(join(projectDir, 'runs', 'long-one')));
  assert.equal((await ui.json('/api/runs/long-one')).status, 404);
});
