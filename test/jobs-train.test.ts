// The training job as a library call: it writes the model folder and report and cleans up its
// checkpoint; an AbortSignal stops it at a step boundary, keeping the best epoch so far.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jobs, type TrainConfig, type TrainEvent } from '../src/index.ts';
import { INT8_BACKBONE, smallDataset } from './support/small-dataset.ts';

const dir = mkdtempSync(join(tmpdir(), 'graft-jobs-train-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));
const data = smallDataset(join(dir, 'data'), { train: 8, val: 4 });
// No schedule, so a run stopped after epoch k holds what a run of k epochs holds.
const config: Partial<TrainConfig> = {
  model: INT8_BACKBONE, epochs: 4, batchSize: 4, lr: 3e-3, scheduler: 'none', augment: 'light', views: 2, featureCache: false, seed: 5,
};
const bytes = (folder: string) => readFileSync(join(folder, 'model.safetensors'));
const history = (folder: string) => JSON.parse(readFileSync(join(folder, 'graft.json'), 'utf8')).history as { epoch: number }[];

/** Aborts the run when `when` first holds for an event. */
function abortWhen(when: (e: TrainEvent) => boolean) {
  const controller = new AbortController();
  const onEvent = (e: TrainEvent) => { if (!controller.signal.aborted && when(e)) controller.abort(); };
  return { signal: controller.signal, onEvent };
}

test('train() writes the model folder and its report, leaves no checkpoint, and the folder predicts', async () => {
  const out = join(dir, 'full');
  const events: string[] = [];
  const job = await jobs.train(data, config, { out, onEvent: (e) => events.push(e.type) });
  assert.equal(job.out, out);
  for (const f of ['model.safetensors', 'labels.txt', 'graft.json', 'report.html', 'backbone.onnx']) assert.ok(existsSync(join(out, f)), f);
  assert.equal(job.report, join(out, 'report.html'));
  assert.equal(job.weights, join(out, 'model.safetensors'));
  assert.equal(job.checkpoint, null);
  assert.ok(!existsSync(join(out, 'checkpoint.safetensors')), 'a finished run removes its checkpoint');
  assert.equal(job.result.stopped, false);
  assert.equal(job.summary.epochs, 4);
  assert.equal(history(out).length, 4);
  assert.deepEqual(readFileSync(join(out, 'labels.txt'), 'utf8'), 'ants\nbees\n');
  assert.equal(events.filter((t) => t === 'epoch-end').length, 4);
  assert.ok(events.includes('features') && events.includes('step'));

  const [p] = await jobs.predict(out, [join(data, 'val', 'ants', 'x.jpg')], { topk: 2 });
  assert.match(p.error ?? '', /file not found/, 'the folder loads; a missing image is that input\'s error');
});

// Compares with the first test's straight run at the end.
test('stopping mid-run keeps the best epoch so far, leaves the checkpoint, and resume finishes the run', async () => {
  const stoppedOut = join(dir, 'stopped');
  const stop = abortWhen((e) => e.type === 'step' && e.epoch === 3 && e.report.batch === 2);
  const events: TrainEvent[] = [];
  const job = await jobs.train(data, config, { out: stoppedOut, signal: stop.signal, onEvent: (e) => { events.push(e); stop.onEvent(e); } });
  assert.equal(job.result.stopped, true);
  assert.deepEqual(job.result.history.map((h) => h.epoch), [1, 2], 'the epoch that was cut short is not recorded');
  assert.deepEqual(history(stoppedOut).map((h) => h.epoch), [1, 2]);
  assert.ok(job.result.bestEpoch <= 2);
  const stopped = events.find((e) => e.type === 'stopped');
  assert.deepEqual(stopped, { type: 'stopped', epoch: 2, bestEpoch: job.result.bestEpoch });
  assert.equal(job.checkpoint, join(stoppedOut, 'checkpoint.safetensors'));
  assert.ok(existsSync(job.checkpoint), 'a stopped run keeps its checkpoint for resume');

  const twoOut = join(dir, 'two-epochs');
  await jobs.train(data, { ...config, epochs: 2 }, { out: twoOut });
  assert.ok(bytes(stoppedOut).equals(bytes(twoOut)), 'the stopped run saved the best of its two epochs, as a two-epoch run does');

  const resumed = await jobs.train(data, config, { out: stoppedOut, resume: true });
  assert.equal(resumed.result.stopped, false);
  assert.equal(resumed.checkpoint, null);
  assert.ok(!existsSync(join(stoppedOut, 'checkpoint.safetensors')));
  assert.ok(bytes(stoppedOut).equals(bytes(join(dir, 'full'))), 'stopped and resumed ends where the straight run ended');
});

test('stopping a run that trains backbone layers on images keeps its best epoch too', async () => {
  const out = join(dir, 'images');
  const stop = abortWhen((e) => e.type === 'step' && e.epoch === 2);
  const job = await jobs.train(data, { ...config, unfreeze: 1, epochs: 3, augment: 'none' }, { out, ...stop });
  assert.equal(job.result.stopped, true);
  assert.deepEqual(history(out).map((h) => h.epoch), [1]);
  assert.equal(job.result.bestEpoch, 1);
});

test('stopping before the first epoch ends rejects with an AbortError and writes no model', async () => {
  const cases: [string, (e: TrainEvent) => boolean][] = [
    ['during feature extraction', (e) => e.type === 'features' && e.done > 0],
    ['during the first epoch', (e) => e.type === 'step' && e.epoch === 1],
  ];
  for (const [i, [when, condition]] of cases.entries()) {
    const out = join(dir, `early-${i}`);
    const stop = abortWhen(condition);
    await assert.rejects(jobs.train(data, config, { out, ...stop }), (e: Error) => {
      assert.equal(e.name, 'AbortError', when);
      assert.ok(e instanceof jobs.AbortError);
      assert.match(e.message, /stopped before its first epoch ended, so there is no epoch to keep/);
      return true;
    });
    assert.ok(!existsSync(join(out, 'graft.json')), `${when}: no model folder`);
  }
  const aborted = AbortSignal.abort();
  await assert.rejects(jobs.train(data, config, { out: join(dir, 'never'), signal: aborted }), { name: 'AbortError' });
  assert.ok(!existsSync(join(dir, 'never')));
});
