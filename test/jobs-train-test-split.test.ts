// A dataset laid out as train/ and test/ (no val/): validation is held out from train/, and the
// kept epoch's model is measured once on test/ at the end, in the job's result, graft.json, the
// report and `graft train --json`; the figures equal `evaluate` on the saved folder.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { jobs, type TrainConfig, type TrainEvent } from '../src/index.ts';
import { INT8_BACKBONE, smallDataset } from './support/small-dataset.ts';

const root = resolve(import.meta.dirname, '..');
const dir = mkdtempSync(join(tmpdir(), 'graft-train-test-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));
// The bundled sample's val/ images become the test split.
const data = smallDataset(join(dir, 'data'), { train: 10, val: 4 });
renameSync(join(data, 'val'), join(data, 'test'));
const config: Partial<TrainConfig> = { model: INT8_BACKBONE, epochs: 2, batchSize: 4, augment: 'none', featureCache: false, seed: 3, valSplit: 0.3 };

test('train/ + test/: validation held out from train/, the kept model evaluated on test/', async () => {
  const out = join(dir, 'model');
  const events: TrainEvent[] = [];
  const job = await jobs.train(data, config, { out, onEvent: (e) => events.push(e) });
  const dataset = events.find((e) => e.type === 'dataset');
  assert.equal(dataset?.type === 'dataset' && dataset.source, 'train-split');
  assert.equal(job.summary.train_images + job.summary.val_images, 20, 'train/ is shared between training and validation');
  assert.ok(job.summary.val_images >= 2, `${job.summary.val_images} validation images`);
  assert.ok(job.test, 'the test split was evaluated');
  assert.equal(job.test.root, join(data, 'test'));
  assert.equal(job.summary.test_images, 8);
  assert.equal(job.summary.test_acc, job.test.acc);

  const again = await jobs.evaluate(out, data);
  assert.equal(again.root, join(data, 'test'));
  assert.equal(job.test.acc, again.acc, 'the job measured the model it saved');
  assert.deepEqual(job.test.confusion, again.confusion);

  const manifest = JSON.parse(readFileSync(join(out, 'graft.json'), 'utf8')) as { metrics: Record<string, unknown> };
  assert.equal(manifest.metrics.test_acc, job.test.acc);
  assert.equal(manifest.metrics.test_images, 8);
  assert.match(readFileSync(job.report, 'utf8'), /test acc/);
});

test('graft train --json carries the test figures; data without a test split has none', async () => {
  const out = join(dir, 'cli');
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'src', 'cli', 'main.ts'), 'train', data, '--model', INT8_BACKBONE,
    '--epochs', '1', '--batch-size', '4', '--augment', 'none', '--no-cache', '--out', out, '--json', '--quiet'], { cwd: root, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const summary = JSON.parse(r.stdout) as Record<string, unknown>;
  assert.equal(summary.test_images, 8);
  assert.equal(typeof summary.test_acc, 'number');

  const plain = smallDataset(join(dir, 'plain'), { train: 4, val: 2 });
  const job = await jobs.train(plain, { ...config, epochs: 1 }, { out: join(dir, 'plain-model') });
  assert.equal(job.test, null);
  assert.equal('test_acc' in job.summary, false);
});

test('a bad file in test/ is skipped and reported, even under strict: the trained model is kept', async () => {
  const broken = smallDataset(join(dir, 'broken'), { train: 6, val: 2 });
  renameSync(join(broken, 'val'), join(broken, 'test'));
  const corrupt = join(broken, 'test', 'bees', 'corrupt.jpg');
  writeFileSync(corrupt, readFileSync(join(broken, 'train', 'ants', readdirSync(join(broken, 'train', 'ants'))[0])).subarray(0, 300));
  const skips: string[] = [];
  const job = await jobs.train(broken, { ...config, epochs: 1, strict: true }, { out: join(dir, 'broken-model'), onEvent: (e) => { if (e.type === 'skip') skips.push(e.file); } });
  assert.deepEqual(job.test?.skipped.map((s) => s.file), [corrupt]);
  assert.deepEqual(skips, [corrupt], 'reported as it happened');
  assert.equal(job.summary.test_images, 4);
  assert.equal(job.summary.test_skipped_files, 1);
});
