// The predict job over every kind of input: paths, encoded bytes and decoded images give the same
// answers, and an input that cannot be read fails alone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { jobs } from '../src/index.ts';
import { decodeImage } from '../src/data/decode.ts';
import { rgbImage } from '../src/data/image.ts';

const root = resolve(import.meta.dirname, '..');
const val = join(root, 'assets', 'sample-data', 'hymenoptera-mini', 'val');
const files = ['ants', 'bees'].flatMap((c) => readdirSync(join(val, c)).sort().slice(0, 2).map((f) => join(val, c, f)));
const model = await jobs.loadModel(join(root, 'test', 'fixtures', 'export', 'model'));

const close = (a: jobs.Prediction, b: jobs.Prediction, what: string) => {
  assert.deepEqual(a.top.map((t) => [t.index, t.label]), b.top.map((t) => [t.index, t.label]), what);
  a.top.forEach((t, i) => assert.ok(Math.abs(t.prob - b.top[i].prob) < 1e-6, `${what}: ${t.prob} vs ${b.top[i].prob}`));
};

test('paths, Buffers and decoded images give the same predictions, batched or not', async () => {
  const byPath = await jobs.predict(model, files, { topk: 3 });
  const byBytes = await jobs.predict(model, files.map((f) => readFileSync(f)), { topk: 3 });
  const byImage = await jobs.predict(model, await Promise.all(files.map((f) => decodeImage(f))), { topk: 3 });
  const oneByOne: jobs.Prediction[] = [];
  for (const f of files) oneByOne.push(...(await jobs.predict(model, [f], { topk: 3 })));
  const batchOfThree = await jobs.predict(model, files, { topk: 3, batchSize: 3 });
  byPath.forEach((p, i) => {
    assert.equal(p.input, i);
    assert.equal(p.file, files[i]);
    assert.equal(p.error, undefined);
    assert.deepEqual(p.top.map((t) => t.label).sort(), ['ant', 'bee', 'wasp']);
    assert.ok(Math.abs(p.top.reduce((s, t) => s + t.prob, 0) - 1) < 1e-5);
    assert.equal(byBytes[i].file, undefined, 'only path inputs carry a file');
    close(byBytes[i], p, `bytes ${i}`);
    close(byImage[i], p, `image ${i}`);
    close(oneByOne[i], p, `alone ${i}`);
    close(batchOfThree[i], p, `batch of three ${i}`);
  });
});

test('an input that cannot be read or decoded gets its own error; the others are answered', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'graft-predict-'));
  try {
    const corrupt = join(dir, 'corrupt.jpg');
    writeFileSync(corrupt, readFileSync(files[0]).subarray(0, 200));
    const inputs = [files[0], corrupt, readFileSync(files[1]).subarray(0, 50), rgbImage(4, 4), files[2], join(dir, 'missing.jpg'),
      { kind: 'image', width: 4, height: 4, data: new Uint8Array(5) } as never];
    const events: jobs.PredictEvent[] = [];
    const results = await jobs.predict(model, inputs, { topk: 2, batchSize: 4, onEvent: (e) => events.push(e) });
    assert.deepEqual(results.map((r) => r.input), [0, 1, 2, 3, 4, 5, 6]);
    assert.deepEqual(results.map((r) => r.error === undefined), [true, false, false, true, true, false, false]);
    assert.match(results[1].error!, new RegExp(`^Cannot decode image ${corrupt.replace(/[.\\]/g, '\\$&')}: `));
    assert.match(results[2].error!, /^Cannot decode image inputs\[2\] \(50 bytes\): /);
    assert.match(results[5].error!, /missing\.jpg: file not found/);
    assert.match(results[6].error!, /^inputs\[6\] is not a valid RgbImage: expected width x height x 3 bytes of data for 4x4 but received 5$/);
    for (const i of [1, 2, 5, 6]) assert.deepEqual(results[i].top, []);
    const alone = await jobs.predict(model, [files[2]], { topk: 2 });
    close(results[4], alone[0], 'a good input beside bad ones');
    assert.deepEqual(events, [{ type: 'batch', done: 4, total: 7 }, { type: 'batch', done: 7, total: 7 }]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('predict checks its inputs and options, and an aborted signal stops it between batches', async () => {
  await assert.rejects(jobs.predict(model, [files[0], 42 as never]), /^TypeError: Expected a file path, the bytes of an encoded image or a decoded RgbImage for inputs\[1\] but received 42 of type number$/);
  await assert.rejects(jobs.predict(model, files, { topk: 0 }), /^RangeError: Expected integer >= 1 for topk but received 0 of type number$/);
  await assert.rejects(jobs.predict(model, files, { batchSize: 1.5 }), /Expected integer >= 1 for batchSize but received 1.5/);
  const controller = new AbortController();
  const done: number[] = [];
  await assert.rejects(jobs.predict(model, files, {
    batchSize: 1, signal: controller.signal, onEvent: (e) => { done.push(e.done); if (e.done === 2) controller.abort(); },
  }), { name: 'AbortError', message: 'Prediction was stopped by its AbortSignal' });
  assert.deepEqual(done, [1, 2]);
  assert.deepEqual(await jobs.predict(model, []), []);
});
