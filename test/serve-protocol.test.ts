// graft serve against the Open Inference Protocol (KServe v2 REST) and TorchServe's /predictions:
// answers equal `predict` on the same files, every endpoint has the specification's shape, every
// bad request gets its documented status and a reason, and the server keeps serving after each.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import sharp from 'sharp';
import { jobs } from '../src/index.ts';
import { decodeImage } from '../src/data/decode.ts';
import type { ImageTensor } from '../src/data/image.ts';
import { serve, type Server } from '../src/serve/index.ts';

const root = resolve(import.meta.dirname, '..');
const val = join(root, 'assets', 'sample-data', 'hymenoptera-mini', 'val');
const files = ['ants', 'bees'].flatMap((c) => readdirSync(join(val, c)).sort().slice(0, 3).map((f) => join(val, c, f)));
const sharedWeights = resolve(root, '..', 'shared', 'weights', 'mobilenet_v2_imagenet.pth');
const folder = join(root, 'test', 'fixtures', 'export', 'model');
const MAX_PIXELS = 1_000_000;
const MAX_BODY = 8 * 1024 * 1024;

let server: Server;
let folderModel: jobs.LoadedModel;
let zooModel: jobs.LoadedModel;

before(async () => {
  folderModel = await jobs.loadModel(folder);
  // ImageNet weights where the reference checkpoint is beside the repository; torchvision's random init otherwise.
  zooModel = await jobs.loadModel('mobilenet_v2', { weights: existsSync(sharedWeights) ? sharedWeights : null });
  server = await serve([{ name: 'bugs', model: folderModel }, { name: 'mobilenet_v2', model: zooModel }], {
    port: 0, maxPixels: MAX_PIXELS, maxBodyBytes: MAX_BODY, maxBatch: 4, maxWaitMs: 20, topk: 3,
  });
});
after(() => server?.close());

const url = (path: string) => `${server.url}${path}`;
const getJson = async (path: string) => {
  const r = await fetch(url(path));
  return { status: r.status, body: await r.json() as Record<string, unknown> };
};
const postJson = async (path: string, body: unknown, headers: Record<string, string> = {}) => {
  const r = await fetch(url(path), { method: 'POST', body: typeof body === 'string' ? body : JSON.stringify(body), headers: { 'content-type': 'application/json', ...headers } });
  return { status: r.status, headers: r.headers, body: await r.json() as Record<string, unknown> };
};
const bytesInput = (images: Buffer[]) => ({ name: 'input', datatype: 'BYTES', shape: [images.length], data: images.map((b) => b.toString('base64')) });

function assertSameTop(got: { label: string; prob: number; index?: number }[], want: jobs.TopK[], what: string): void {
  assert.deepEqual(got.map((t) => t.label), want.map((t) => t.label), what);
  if (got[0].index !== undefined) assert.deepEqual(got.map((t) => t.index), want.map((t) => t.index), what);
  got.forEach((t, i) => assert.ok(Math.abs(t.prob - want[i].prob) <= 1e-6, `${what}: ${t.prob} vs ${want[i].prob}`));
}

for (const [name, which] of [['bugs', 'a trained model folder'], ['mobilenet_v2', 'a zoo model']] as const) {
  test(`${which}: /predictions and /v2 infer answer what predict answers on the same files`, async () => {
    const model = name === 'bugs' ? folderModel : zooModel;
    const k = 3;
    const want = await jobs.predict(model, files, { topk: k });
    // TorchServe's shape, sent concurrently so they are batched together.
    const plain = await Promise.all(files.map(async (f) => {
      const r = await fetch(url(`/predictions/${name}`), { method: 'POST', body: readFileSync(f), headers: { 'content-type': 'image/jpeg' } });
      assert.equal(r.status, 200);
      return Object.entries(await r.json() as Record<string, number>).map(([label, prob]) => ({ label, prob }));
    }));
    plain.forEach((top, i) => assertSameTop(top, want[i].top, `/predictions ${files[i]}`));
    // The v2 protocol with the classification extension: "score:index:label", best first.
    const r = await postJson(`/v2/models/${name}/infer`, { id: 'req-7', inputs: [bytesInput(files.map((f) => readFileSync(f)))], outputs: [{ name: 'probabilities', parameters: { classification: k } }] });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.id, 'req-7');
    assert.equal(r.body.model_name, name);
    const [out] = r.body.outputs as { name: string; datatype: string; shape: number[]; data: string[] }[];
    assert.deepEqual([out.name, out.datatype, out.shape], ['probabilities', 'BYTES', [files.length, k]]);
    files.forEach((f, i) => {
      const top = out.data.slice(i * k, (i + 1) * k).map((s) => {
        const [score, index, ...label] = s.split(':');
        return { prob: Number(score), index: Number(index), label: label.join(':') };
      });
      assertSameTop(top, want[i].top, `v2 classification ${f}`);
    });
  });
}

test('v2 infer takes preprocessed FP32 tensors, as JSON and as binary, and answers every probability', async () => {
  const want = await jobs.predict(folderModel, files.slice(0, 2), { topk: 3 });
  const tensors = await Promise.all(files.slice(0, 2).map(async (f) => folderModel.transform.apply(await decodeImage(f)) as ImageTensor));
  const flat = new Float32Array(2 * 3 * 224 * 224);
  tensors.forEach((t, i) => flat.set(t.data, i * 3 * 224 * 224));
  const json = await postJson('/v2/models/bugs/versions/1/infer', { inputs: [{ name: 'input', datatype: 'FP32', shape: [2, 3, 224, 224], data: Array.from(flat) }] });
  assert.equal(json.status, 200, JSON.stringify(json.body));
  const [out] = json.body.outputs as { datatype: string; shape: number[]; data: number[] }[];
  assert.deepEqual([out.datatype, out.shape], ['FP32', [2, 3]]);
  want.forEach((p, i) => p.top.forEach((t) => assert.ok(Math.abs(out.data[i * 3 + t.index] - t.prob) <= 1e-6)));

  // Triton's binary tensor extension: JSON header, then the raw little-endian floats.
  const header = Buffer.from(JSON.stringify({
    inputs: [{ name: 'input', datatype: 'FP32', shape: [2, 3, 224, 224], parameters: { binary_data_size: flat.byteLength } }],
    outputs: [{ name: 'probabilities', parameters: { binary_data: true } }],
  }));
  const r = await fetch(url('/v2/models/bugs/infer'), {
    method: 'POST', body: Buffer.concat([header, Buffer.from(flat.buffer)]),
    headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(header.length) },
  });
  assert.equal(r.status, 200);
  const body = Buffer.from(await r.arrayBuffer());
  const jsonLength = Number(r.headers.get('inference-header-content-length'));
  const head = JSON.parse(body.subarray(0, jsonLength).toString()) as { outputs: { shape: number[]; parameters: { binary_data_size: number } }[] };
  assert.deepEqual(head.outputs[0].shape, [2, 3]);
  assert.equal(head.outputs[0].parameters.binary_data_size, 2 * 3 * 4);
  const probs = new Float32Array(body.subarray(jsonLength).buffer.slice(body.byteOffset + jsonLength, body.byteOffset + body.length));
  for (let i = 0; i < 6; i++) assert.equal(probs[i], Math.fround(out.data[i]));
});

test('health, server and model metadata have the specification\'s shapes', async () => {
  assert.deepEqual(await getJson('/v2/health/live'), { status: 200, body: { live: true } });
  assert.deepEqual(await getJson('/v2/health/ready'), { status: 200, body: { ready: true } });
  const meta = await getJson('/v2');
  assert.equal(meta.status, 200);
  assert.equal(meta.body.name, 'graft');
  assert.equal(typeof meta.body.version, 'string');
  assert.ok((meta.body.extensions as string[]).includes('classification'));
  for (const path of ['/v2/models/bugs', '/v2/models/bugs/versions/1']) {
    assert.deepEqual(await getJson(path), {
      status: 200,
      body: {
        name: 'bugs', versions: ['1'], platform: 'onnxruntime_onnx',
        inputs: [{ name: 'input', datatype: 'FP32', shape: [-1, 3, 224, 224] }],
        outputs: [{ name: 'probabilities', datatype: 'FP32', shape: [-1, 3] }],
      },
    });
  }
  assert.deepEqual(await getJson('/v2/models/mobilenet_v2/ready'), { status: 200, body: { name: 'mobilenet_v2', ready: true } });
  assert.deepEqual(await getJson('/ping'), { status: 200, body: { status: 'Healthy' } });
});

test('every bad request gets its documented status and says what was wrong; the server keeps serving', async () => {
  const image = readFileSync(files[0]);
  const big = await sharp({ create: { width: 1200, height: 1000, channels: 3, background: '#808080' } }).png().toBuffer();
  const infer = (body: unknown) => postJson('/v2/models/bugs/infer', body);
  const cases: [string, () => Promise<{ status: number; body: Record<string, unknown> }>, number, RegExp][] = [
    ['unknown model', () => postJson('/v2/models/nope/infer', { inputs: [bytesInput([image])] }), 404, /no model named "nope" is served here; served: bugs, mobilenet_v2/],
    ['unknown model metadata', () => getJson('/v2/models/nope'), 404, /no model named "nope"/],
    ['unknown version', () => getJson('/v2/models/bugs/versions/7'), 404, /has no version "7"; its version is "1"/],
    ['unknown endpoint', () => getJson('/v3/things'), 404, /no endpoint GET \/v3\/things/],
    ['malformed JSON', () => infer('{"inputs": ['), 400, /not valid JSON/],
    ['not an object', () => infer('[1, 2]'), 400, /must be a JSON object with "inputs"/],
    ['missing inputs', () => infer({ id: 'x' }), 400, /"inputs" must be a non-empty array of tensors, not undefined/],
    ['two inputs', () => infer({ inputs: [bytesInput([image]), bytesInput([image])] }), 400, /takes one input \("input"\), the request has 2/],
    ['wrong input name', () => infer({ inputs: [{ ...bytesInput([image]), name: 'images' }] }), 400, /inputs\[0\]\.name must be "input".*not "images"/],
    ['wrong datatype', () => infer({ inputs: [{ name: 'input', datatype: 'INT64', shape: [1], data: [1] }] }), 400, /datatype must be "FP32" .* or "BYTES" .*not "INT64"/],
    ['wrong FP32 shape', () => infer({ inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 3, 32, 32], data: new Array(3072).fill(0) }] }), 400, /shape must be \[N, 3, 224, 224\] for FP32.*not \[1, 3, 32, 32\]/],
    ['FP32 data short', () => infer({ inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 3, 224, 224], data: [0, 1, 2] }] }), 400, /holds 3 values, its shape gives 150528/],
    ['FP32 data not numbers', () => infer({ inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 3, 224, 224], data: ['a'] }] }), 400, /must hold only numbers.*found "a"/],
    ['negative shape', () => infer({ inputs: [{ name: 'input', datatype: 'BYTES', shape: [-1], data: [] }] }), 400, /shape must be an array of non-negative integers/],
    ['shape and data disagree', () => infer({ inputs: [{ ...bytesInput([image]), shape: [2] }] }), 400, /data must be an array of 2 base64 strings/],
    ['not base64', () => infer({ inputs: [{ name: 'input', datatype: 'BYTES', shape: [1], data: ['not an image!'] }] }), 400, /data\[0\] must be an encoded image in base64/],
    ['unknown output', () => infer({ inputs: [bytesInput([image])], outputs: [{ name: 'logits' }] }), 400, /outputs\[0\]\.name must be "probabilities"/],
    ['classification out of range', () => infer({ inputs: [bytesInput([image])], outputs: [{ name: 'probabilities', parameters: { classification: 9 } }] }), 400, /classification must be an integer from 1 to 3/],
    ['id not a string', () => infer({ id: 5, inputs: [bytesInput([image])] }), 400, /"id" must be a string, not 5/],
    ['corrupt image', () => infer({ inputs: [bytesInput([image, image.subarray(0, 300)])] }), 400, /inputs\[0\]\.data\[1\]: cannot decode the image/],
    ['image over the pixel limit', () => infer({ inputs: [bytesInput([big])] }), 413, new RegExp(`inputs\\[0\\]\\.data\\[0\\]: the image has more pixels than the ${MAX_PIXELS}`)],
    ['body over the size limit', () => infer({ inputs: [{ name: 'input', datatype: 'BYTES', shape: [1], data: ['A'.repeat(MAX_BODY)] }] }), 413, new RegExp(`over the limit of ${MAX_BODY} bytes`)],
    ['empty /predictions body', async () => {
      const r = await fetch(url('/predictions/bugs'), { method: 'POST' });
      return { status: r.status, body: await r.json() as Record<string, unknown> };
    }, 400, /the body is empty/],
    ['corrupt /predictions image', async () => {
      const r = await fetch(url('/predictions/bugs'), { method: 'POST', body: Buffer.from('GIF89a nonsense'), headers: { 'content-type': 'image/gif' } });
      return { status: r.status, body: await r.json() as Record<string, unknown> };
    }, 400, /the request body: cannot decode the image/],
    ['/predictions of an unknown model', async () => {
      const r = await fetch(url('/predictions/nope'), { method: 'POST', body: image });
      return { status: r.status, body: await r.json() as Record<string, unknown> };
    }, 404, /no model named "nope"/],
    ['bad topk', async () => {
      const r = await fetch(url('/predictions/bugs?topk=zero'), { method: 'POST', body: image });
      return { status: r.status, body: await r.json() as Record<string, unknown> };
    }, 400, /topk must be a positive integer, not "zero"/],
  ];
  for (const [what, send, status, message] of cases) {
    const r = await send();
    assert.equal(r.status, status, `${what}: ${JSON.stringify(r.body)}`);
    assert.deepEqual(Object.keys(r.body), ['error'], what);
    assert.match(r.body.error as string, message, what);
    const ok = await postJson('/v2/models/bugs/infer', { inputs: [bytesInput([image])] });
    assert.equal(ok.status, 200, `after ${what}`);
  }
});

test('/metrics counts requests by status, batch sizes and queue depth in Prometheus text format', async () => {
  const r = await fetch(url('/metrics'));
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type') ?? '', /^text\/plain/);
  const text = await r.text();
  assert.match(text, /^graft_requests_total\{model="bugs",endpoint="\/v2\/models\/:name\/infer",status="200"\} \d+$/m);
  assert.match(text, /^graft_requests_total\{model="",endpoint="\/v2\/models\/:name\/infer",status="404"\} 1$/m);
  assert.match(text, /^graft_requests_total\{model="bugs",endpoint="\/v2\/models\/:name\/infer",status="413"\} 2$/m);
  assert.match(text, /^graft_request_duration_seconds_bucket\{le="0\.5",model="bugs",endpoint="\/predictions\/:name"\} \d+$/m);
  assert.match(text, /^graft_queue_depth\{model="mobilenet_v2"\} 0$/m);
  // Six concurrent /predictions per model ran in fewer batches than images.
  const count = Number(/^graft_batch_size_count\{model="mobilenet_v2"\} (\d+)$/m.exec(text)?.[1]);
  const sum = Number(/^graft_batch_size_sum\{model="mobilenet_v2"\} (\d+)$/m.exec(text)?.[1]);
  assert.ok(count < sum, `batches ${count}, images ${sum}`);
});

test('a full queue answers 503 with Retry-After at once, and a request past its timeout 503; nothing else fails', async () => {
  const small = await serve([{ name: 'bugs', model: folderModel }], { port: 0, maxQueue: 2, maxBatch: 1, timeoutMs: 60_000 });
  try {
    const image = readFileSync(files[0]);
    const answers = await Promise.all(Array.from({ length: 12 }, () => fetch(`${small.url}/predictions/bugs`, { method: 'POST', body: image })));
    const statuses = answers.map((a) => a.status);
    assert.ok(statuses.every((s) => s === 200 || s === 503), String(statuses));
    assert.ok(statuses.filter((s) => s === 200).length >= 2, String(statuses));
    const refused = answers.filter((a) => a.status === 503);
    assert.ok(refused.length >= 1, String(statuses));
    assert.equal(refused[0].headers.get('retry-after'), '1');
    assert.match(((await refused[0].json()) as { error: string }).error, /model bugs is busy: 2 images in flight, at most 2; retry shortly/);
  } finally {
    await small.close();
  }
  const slow = await serve([{ name: 'bugs', model: folderModel }], { port: 0, timeoutMs: 1 });
  try {
    const r = await fetch(`${slow.url}/predictions/bugs`, { method: 'POST', body: readFileSync(files[0]) });
    assert.equal(r.status, 503);
    assert.match(((await r.json()) as { error: string }).error, /did not answer within 1 ms/);
  } finally {
    await slow.close();
  }
});

test('--token guards every endpoint but the health probes; CORS is off unless an origin is given', async () => {
  const guarded = await serve([{ name: 'bugs', model: folderModel }], { port: 0, token: 's3cret', cors: 'https://app.example' });
  try {
    const open = await fetch(`${guarded.url}/v2/health/ready`);
    assert.equal(open.status, 200);
    const denied = await fetch(`${guarded.url}/v2/models/bugs`, { headers: { authorization: 'Bearer wrong' } });
    assert.equal(denied.status, 401);
    assert.equal(denied.headers.get('www-authenticate'), 'Bearer');
    assert.match(((await denied.json()) as { error: string }).error, /requires "Authorization: Bearer <token>"/);
    assert.equal((await fetch(`${guarded.url}/metrics`)).status, 401);
    const allowed = await fetch(`${guarded.url}/v2/models/bugs`, { headers: { authorization: 'Bearer s3cret', origin: 'https://app.example' } });
    assert.equal(allowed.status, 200);
    assert.equal(allowed.headers.get('access-control-allow-origin'), 'https://app.example');
    const preflight = await fetch(`${guarded.url}/v2/models/bugs/infer`, {
      method: 'OPTIONS', headers: { origin: 'https://app.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' },
    });
    assert.equal(preflight.status, 204);
    assert.equal(preflight.headers.get('access-control-allow-origin'), 'https://app.example');
  } finally {
    await guarded.close();
  }
  const plain = await fetch(url('/v2/models/bugs'), { headers: { origin: 'https://app.example' } });
  assert.equal(plain.status, 200);
  assert.equal(plain.headers.get('access-control-allow-origin'), null);
});

test('serve refuses bad options and names by the option', async () => {
  await assert.rejects(serve([folder], { maxBatch: 0 }), /Expected integer between 1 and 1024 for maxBatch but received 0/);
  await assert.rejects(serve([{ name: 'a/b', model: folder }], { port: 0 }), /models\[0\]\.name/);
  await assert.rejects(serve([{ name: 'x', model: folderModel }, { name: 'x', model: folderModel }], { port: 0 }), /models\[1\]\.name/);
  await assert.rejects(serve([], {}), /Expected a non-empty array of models to serve for models/);
});
