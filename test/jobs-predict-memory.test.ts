// predict holds a bounded number of full-resolution pixels at once, whatever the batch size: a
// batch of small files that decode to huge images (a decompression-ratio attack, or just large
// scans) stays near the memory of one image, and the answers are those of one image at a time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { writeLargePng } from './support/large-image.ts';
import { runBounded, SRC } from './support/bounded-child.ts';
import { PixelBudget } from '../src/data/pixel-budget.ts';

const root = resolve(import.meta.dirname, '..');
const model = join(root, 'test', 'fixtures', 'export', 'model');
const dir = mkdtempSync(join(tmpdir(), 'graft-predict-memory-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

const SIDE = 6000; // 36 M pixels, 108 MB as RGB: one fits the default bound, two do not
const COPIES = 6;

test('a batch of huge images is decoded within the pixel bound, with the answers of one at a time', async (t) => {
  const files = Array.from({ length: COPIES }, (_, i) => join(dir, `scan-${i}.png`));
  await writeLargePng(files[0], SIDE, SIDE);
  for (const f of files.slice(1)) copyFileSync(files[0], f);
  const child = (inputs: string[], batchSize: number) => runBounded(`
    import { jobs } from '${SRC}/index.ts';
    const model = await jobs.loadModel(${JSON.stringify(model)});
    const results = await jobs.predict(model, ${JSON.stringify(inputs)}, { batchSize: ${batchSize}, topk: 3 });
    console.log(JSON.stringify(results.map((r) => r.error ?? r.top)));
  `, 120_000);
  const one = await child(files.slice(0, 1), 1);
  const batch = await child(files, COPIES);
  for (const c of [one, batch]) assert.equal(c.timedOut, false, c.stderr);
  t.diagnostic(`peak RSS: one image ${one.peakRssMb.toFixed(0)} MB, ${COPIES} in one batch ${batch.peakRssMb.toFixed(0)} MB (${batch.seconds.toFixed(1)} s)`);
  const [alone] = one.result as unknown[];
  assert.ok(Array.isArray(alone), JSON.stringify(alone));
  for (const r of batch.result as unknown[]) assert.deepEqual(r, alone);
  // Unbounded, the batch holds six decoded images at once: about 650 MB more than one.
  const perImage = (SIDE * SIDE * 3) / 2 ** 20;
  assert.ok(batch.peakRssMb - one.peakRssMb < 1.5 * perImage, `${COPIES} images took ${(batch.peakRssMb - one.peakRssMb).toFixed(0)} MB more than one`);
});

test('PixelBudget runs work side by side within its limit, a larger piece alone, in arrival order', async () => {
  const budget = new PixelBudget(100);
  const log: string[] = [];
  let running = 0;
  let most = 0;
  const work = (name: string, pixels: number) => budget.use(pixels, async () => {
    running += pixels;
    most = Math.max(most, running);
    log.push(`start ${name}`);
    await new Promise((r) => setTimeout(r, 5));
    running -= pixels;
    log.push(`end ${name}`);
  });
  await Promise.all([work('a', 60), work('b', 40), work('huge', 500), work('c', 10)]);
  assert.deepEqual(log, ['start a', 'start b', 'end a', 'end b', 'start huge', 'end huge', 'start c', 'end c']);
  assert.equal(most, 500, 'the piece above the limit ran, by itself');
});
