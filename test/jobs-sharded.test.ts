// Sharded jobs without a broker: --shard I/N slices, resuming, and features folders from another
// disk checked on read. 40 generated images through the bundled int8 backbone: 4 shards of 10.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { embedFeatures } from '../src/jobs/embed.ts';
import { predictBatch } from '../src/jobs/predict-batch.ts';
import { readFeaturesFolder } from '../src/jobs/shards/features-manifest.ts';
import { parseShardSelector } from '../src/jobs/shards/shard-plan.ts';
import { checkShardTask } from '../src/jobs/shards/shard-task.ts';
import { INT8_BACKBONE } from './support/small-dataset.ts';
import { colorDataset } from './support/color-dataset.ts';

const tmp = mkdtempSync(join(tmpdir(), 'graft-sharded-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));
const data = colorDataset(join(tmp, 'data'), { train: 15, val: 5 });
const opts = { model: INT8_BACKBONE, augment: 'none' as const, shardSize: 10 };

test('--shard I/N: each slice runs only its shards, and the slice that completes the plan writes the manifest', async () => {
  const out = join(tmp, 'sliced');
  const first = await embedFeatures(await data, { ...opts, out, shard: parseShardSelector('0/2') });
  const second = await embedFeatures(await data, { ...opts, out, shard: parseShardSelector('1/2') });
  assert.equal(first.shards, 4);
  assert.equal(first.selected + second.selected, 4);
  assert.equal(first.ran + second.ran, 4);
  assert.equal(second.complete, true);
  assert.ok(second.manifest);
  const again = await embedFeatures(await data, { ...opts, out });
  assert.deepEqual([again.alreadyDone, again.ran], [4, 0], 'a rerun finds every shard done');
  const whole = await embedFeatures(await data, { ...opts, out: join(tmp, 'whole') });
  for (const f of readdirSync(join(out, 'shards'))) assert.ok(readFileSync(join(out, 'shards', f)).equals(readFileSync(join(tmp, 'whole', 'shards', f))), f);
  assert.equal(whole.ran, 4);
  const { features, splits } = await readFeaturesFolder(out);
  assert.equal(features.train.usable.length, 30);
  assert.equal(splits.val.samples.length, 10);
  assert.ok(features.train.dim > 0 && features.train.views[0].some((v) => v !== 0));
});

test('a features folder from another disk is checked on read: a changed byte, a cut shard, a foreign manifest', async () => {
  const out = join(tmp, 'whole');
  await embedFeatures(await data, { ...opts, out });
  const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
  const shard = join(out, 'shards', `${manifest.splits.train.shards[0].name}.safetensors`);
  const original = readFileSync(shard);
  const flipped = Buffer.from(original);
  flipped[flipped.length - 1] ^= 1;
  writeFileSync(shard, flipped);
  await assert.rejects(readFeaturesFolder(out), (e: Error) => e.message.includes(shard) && /SHA-256 .* but the manifest says/.test(e.message));
  truncateSync(shard, original.length - 4);
  await assert.rejects(readFeaturesFolder(out), (e: Error) => e.message.includes(`has ${original.length - 4} bytes but the manifest says ${original.length}`));
  writeFileSync(shard, original);
  writeFileSync(join(out, 'manifest.json'), JSON.stringify({ ...manifest, dim: 'wide' }));
  await assert.rejects(readFeaturesFolder(out), (e: Error) => e.message.includes('dim in') && e.message.includes('"wide"'));
  writeFileSync(join(out, 'manifest.json'), JSON.stringify(manifest));
  await readFeaturesFolder(out);
});

test('predict --batch resumes: parts already there are not run again, and the results are the same bytes', async () => {
  const out = join(tmp, 'results.jsonl');
  const first = await predictBatch(await data, { model: INT8_BACKBONE, out, shardSize: 10, topk: 1 });
  assert.deepEqual([first.shards, first.ran, first.images], [4, 4, 40]);
  const bytes = readFileSync(out);
  const parts = readdirSync(`${out}.parts`);
  rmSync(join(`${out}.parts`, parts[0]));
  const second = await predictBatch(await data, { model: INT8_BACKBONE, out, shardSize: 10, topk: 1 });
  assert.deepEqual([second.alreadyDone, second.ran], [3, 1]);
  assert.ok(readFileSync(out).equals(bytes));
  const csv = await predictBatch(await data, { model: INT8_BACKBONE, out: join(tmp, 'results.csv'), shardSize: 10, topk: 1 });
  assert.equal(readFileSync(csv.out!, 'utf8').trim().split('\n').length, 41);
});

test('shard selectors and tasks from a queue are checked, naming the value', () => {
  assert.deepEqual(parseShardSelector('3/8'), { index: 3, count: 8 });
  for (const bad of ['8/8', '1', '-1/2', 'a/b']) assert.throws(() => parseShardSelector(bad), new RegExp(`0 <= I < N .* received "${bad}"`));
  assert.throws(() => checkShardTask({ kind: 'embed', shard: 'x' }, 'job 7'), /32 hex digits for job 7\.shard but received "x"/);
  assert.throws(() => checkShardTask('hello', 'job 7'), /job 7/);
  const task = { kind: 'predict', shard: '0'.repeat(32), out: '/o', model: 'm', weights: null, digest: 'd', items: [{ file: 'a.png', sha256: null }], topk: 0, batchSize: 1 };
  assert.throws(() => checkShardTask(task, 'job 7'), /job 7\.topk/);
});
