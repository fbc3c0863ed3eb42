// A run's progress as the web app shows it, from the training job's events at known times:
// images per second and the ETA of feature extraction and of training, epoch records, best epoch.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolveConfig } from '../src/train/config.ts';
import { RunRecord } from '../src/ui/run-record.ts';

const record = { epoch: 1, train_loss: 0.5, train_acc: 0.8, val_loss: 0.4, val_acc: 0.75, lr: 1e-3, seconds: 10 };

test('images per second and the ETA follow the events; the best epoch follows improvement', () => {
  const run = new RunRecord('r', resolveConfig({ epochs: 3 }), '2026-01-01T00:00:00.000Z');
  run.apply({ type: 'dataset', classes: ['a', 'b'], train: 100, val: 20, source: 'split' }, 0);
  run.apply({ type: 'features', split: 'train', done: 50, total: 100 }, 1000);
  assert.equal(run.info().progress!.imagesPerSecond, 50);
  assert.equal(run.info().progress!.etaSeconds, 1);
  run.apply({ type: 'features', split: 'train', done: 100, total: 100 }, 2000);
  // The validation split's rate is measured from where the training split ended.
  run.apply({ type: 'features', split: 'val', done: 10, total: 20 }, 2500);
  assert.equal(run.info().progress!.imagesPerSecond, 20);
  assert.equal(run.info().progress!.etaSeconds, 0.5);
  run.apply({ type: 'epoch-start', epoch: 1, epochs: 3, phase: 'frozen' }, 3000);
  assert.equal(run.info().progress!.features, null);
  for (let b = 1; b <= 5; b++) run.apply({ type: 'step', epoch: 1, report: { batch: b, batches: 10, loss: 1 / b, images: 10 } }, 3000 + b * 100);
  const p = run.info().progress!;
  assert.deepEqual(p.step, { epoch: 1, step: 5, steps: 10, loss: 0.2 });
  assert.equal(p.imagesPerSecond, 100);
  // Half an epoch left (0.5 s at this rate), then two more epochs of about a second each.
  assert.ok(Math.abs(p.etaSeconds! - (0.5 + 2 * 1)) < 1e-9, String(p.etaSeconds));
  run.apply({ type: 'epoch-end', record, improved: true }, 4000);
  run.apply({ type: 'epoch-end', record: { ...record, epoch: 2, val_acc: 0.7 }, improved: false }, 5000);
  assert.deepEqual([run.bestAcc, run.bestEpoch, run.history.length], [0.75, 1, 2]);
  assert.equal(run.detail().steps.length, 5);
  run.finish('done');
  assert.equal(run.info().progress, null);
});
