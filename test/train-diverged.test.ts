// A diverging run stops with an error naming the epoch and step where the loss or a weight
// stopped being finite (as Keras' TerminateOnNaN), and saves nothing; a model folder that holds
// non-finite weights is refused on loading, so predict never prints NaN%.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { jobs, type TrainConfig } from '../src/index.ts';
import { readSafetensors, writeSafetensors } from '../src/formats/safetensors.ts';
import { TrainingDivergedError } from '../src/train/diverged.ts';
import { INT8_BACKBONE, smallDataset } from './support/small-dataset.ts';

const root = resolve(import.meta.dirname, '..');
const cli = join(root, 'src', 'cli', 'main.ts');
const graft = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', cli, ...args], { cwd: root, encoding: 'utf8' });
const dir = mkdtempSync(join(tmpdir(), 'graft-diverged-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));
const data = smallDataset(join(dir, 'data'), { train: 8, val: 4 });
const config: Partial<TrainConfig> = { model: INT8_BACKBONE, epochs: 3, batchSize: 4, featureCache: false, seed: 2 };

test('a run whose loss becomes non-finite stops at that step, names epoch and step, and writes no model', async () => {
  for (const [what, extra] of [['head on features', {}], ['backbone layers on images', { unfreeze: 1, augment: 'none' }]] as const) {
    const out = join(dir, `lr-1e308-${what.split(' ')[0]}`);
    const steps: number[] = [];
    await assert.rejects(
      jobs.train(data, { ...config, ...extra, lr: 1e308 }, { out, onEvent: (e) => { if (e.type === 'step') steps.push(e.report.batch); } }),
      (e: Error) => {
        assert.ok(e instanceof TrainingDivergedError, `${what}: ${e.stack}`);
        assert.match(e.message, /^Training diverged: the loss became (NaN|-?Infinity) at epoch 1, step \d+ of 4; the learning rate \(1e\+308\) is likely too high; try a lower --lr$/);
        assert.equal(e.epoch, 1);
        assert.equal(e.step, steps.length + 1, 'the step named is the one after the last that went well');
        return true;
      },
    );
    assert.ok(!existsSync(join(out, 'graft.json')), `${what}: no model folder is written`);
  }
});

test('graft train --lr 1e308 exits 1 with the error instead of saving a NaN model', () => {
  const out = join(dir, 'cli-lr');
  const r = graft('train', data, '--model', INT8_BACKBONE, '--epochs', '2', '--batch-size', '4', '--no-cache', '--lr', '1e308', '--out', out, '--quiet', '--json');
  assert.equal(r.status, 1, r.stdout);
  assert.match(r.stderr, /^graft: Training diverged: the loss became \S+ at epoch 1, step \d+ of 4; /m);
  assert.equal(r.stdout, '', 'no result is printed');
  assert.ok(!existsSync(join(out, 'graft.json')));
});

test('loading a model folder whose weights hold a NaN or an infinity is refused, naming the file and the tensor', async () => {
  const out = join(dir, 'poisoned');
  await jobs.train(data, { ...config, epochs: 1 }, { out });
  const file = join(out, 'model.safetensors');
  const sd = await readSafetensors(file);
  const key = [...sd.keys()].find((k) => k.endsWith('weight') && sd.get(k)!.dtype === 'float32')!;
  for (const bad of [Number.NaN, Number.POSITIVE_INFINITY]) {
    (sd.get(key)!.data as Float32Array)[3] = bad;
    await writeSafetensors(file, sd);
    const message = `${file}: ${key} holds a non-finite weight (${bad} at index 3); the run that wrote this folder diverged, so its predictions would be NaN. Train again with a lower --lr`;
    await assert.rejects(jobs.loadModel(out), { name: 'RangeError', message });
    const r = graft('predict', join(data, 'val', 'ants', 'x.jpg'), '--model', out);
    assert.equal(r.status, 1);
    assert.equal(r.stderr, `graft: ${message}\n`);
    assert.doesNotMatch(r.stdout, /NaN%/);
  }
});
