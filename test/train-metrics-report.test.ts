// One epoch numbering, from 1, in every place a run is shown (CLI table and summary line, --json,
// graft.json, the report's card, header, chart and epoch log); top-5 only above five classes, where
// it can be below 100%; balanced accuracy beside accuracy in eval, train --json and the report.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { MetricAccumulator } from '../src/train/metrics.ts';
import { INT8_BACKBONE, smallDataset } from './support/small-dataset.ts';

const root = resolve(import.meta.dirname, '..');
const cli = join(root, 'src', 'cli', 'main.ts');
const graft = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', cli, ...args], { cwd: root, encoding: 'utf8' });
const dir = mkdtempSync(join(tmpdir(), 'graft-metrics-report-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));
const data = smallDataset(join(dir, 'data'), { train: 8, val: 4 });

test('balanced accuracy is the mean recall of the classes present, as scikit-learn computes it', () => {
  const classes = ['big', 'small', 'tiny', 'absent'];
  const m = new MetricAccumulator(classes);
  const predicted = [0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 0]; // big 7/8 right, small 1/2, tiny 0/1
  const actual = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 2];
  const logits = new Float32Array(actual.length * classes.length);
  predicted.forEach((p, i) => { logits[i * classes.length + p] = 5; });
  m.add(logits, actual, 0.5);
  const r = m.result();
  assert.equal(r.acc, 8 / 11);
  // sklearn.metrics.balanced_accuracy_score(actual, predicted) = (7/8 + 1/2 + 0) / 3; "absent" has no images and does not count.
  assert.equal(r.balancedAcc, (7 / 8 + 1 / 2 + 0) / 3);
});

/** The best-epoch numbers each place shows, read from the CLI output, graft.json and report.html. */
function shownBestEpochs(stdout: string, out: string) {
  const starred = stdout.split('\n').find((l) => /^\s*\d+ \*/.test(l));
  const report = readFileSync(join(out, 'report.html'), 'utf8');
  const epochLog = /<tr class="best-row"[^>]*><td class="num">(\d+)<\/td>/.exec(report);
  return {
    table: Number(starred?.trim().split(' ')[0]),
    summaryLine: Number(/at epoch (\d+)/.exec(stdout)?.[1]),
    card: Number(/<div class="key">best epoch<\/div><div class="value">(\d+)<\/div>/.exec(report)?.[1]),
    header: Number(/best epoch <strong>(\d+)<\/strong>/.exec(report)?.[1]),
    chart: Number(/best · epoch (\d+)/.exec(report)?.[1]),
    epochLog: Number(epochLog?.[1]),
  };
}

test('graft train numbers the best epoch the same, from 1, in its table, --json, graft.json and every part of the report', () => {
  const args = [data, '--model', INT8_BACKBONE, '--epochs', '3', '--batch-size', '4', '--no-cache', '--seed', '1', '--quiet'];
  const out = join(dir, 'two-classes');
  const text = graft('train', ...args, '--out', out);
  assert.equal(text.status, 0, text.stderr);
  const manifest = JSON.parse(readFileSync(join(out, 'graft.json'), 'utf8')) as { history: { epoch: number; val_acc: number; val_balanced_acc: number; val_top5?: number }[]; metrics: { best_epoch: number } };
  assert.deepEqual(manifest.history.map((h) => h.epoch), [1, 2, 3]);
  const best = manifest.metrics.best_epoch;
  const bestAcc = Math.max(...manifest.history.map((h) => h.val_acc));
  assert.equal(best, manifest.history.find((h) => h.val_acc === bestAcc)!.epoch, 'the first epoch with the best accuracy');
  const shown = shownBestEpochs(text.stdout, out);
  assert.deepEqual(shown, { table: best, summaryLine: best, card: best, header: best, chart: best, epochLog: best });

  const json = graft('train', ...args, '--out', join(dir, 'two-classes-json'), '--json');
  assert.equal(json.status, 0, json.stderr);
  const summary = JSON.parse(json.stdout) as { best_epoch: number; best_val_acc: number; best_val_balanced_acc: number; best_val_top5: number | null };
  assert.equal(summary.best_epoch, best);
  assert.equal(summary.best_val_top5, null, 'two classes: top-5 says nothing');
  assert.equal(summary.best_val_balanced_acc, manifest.history[best - 1].val_balanced_acc);
  assert.ok(summary.best_val_balanced_acc >= 0 && summary.best_val_balanced_acc <= 1);

  const report = readFileSync(join(out, 'report.html'), 'utf8');
  assert.doesNotMatch(report, /top-5/i);
  assert.ok(manifest.history.every((h) => h.val_top5 === undefined));
  assert.match(report, /<div class="key">best val balanced acc<\/div>/);
  assert.match(report, /<th class="num">val balanced acc<\/th>/);
  assert.match(report, /validation balanced/);

  const evaluated = graft('eval', out, data, '--json');
  assert.equal(evaluated.status, 0, evaluated.stderr);
  const e = JSON.parse(evaluated.stdout) as { accuracy: number; balanced_accuracy: number; top5: number | null; per_class: { recall: number; support: number }[] };
  const present = e.per_class.filter((c) => c.support > 0);
  assert.equal(e.balanced_accuracy, present.reduce((s, c) => s + c.recall, 0) / present.length);
  assert.equal(e.top5, null);
  const line = graft('eval', out, data).stdout.split('\n')[0];
  assert.match(line, /accuracy \d+\.\d\d%, balanced accuracy \d+\.\d\d%, loss/);
  assert.doesNotMatch(line, /top-5/);
});

test('with six classes top-5 is reported, in --json, graft.json and the report', () => {
  const six = join(dir, 'six');
  for (const split of ['train', 'val']) {
    for (const [i, name] of ['a', 'b', 'c', 'd', 'e', 'f'].entries()) cpSync(join(data, split, i % 2 ? 'bees' : 'ants'), join(six, split, name), { recursive: true });
  }
  const out = join(dir, 'six-classes');
  const r = graft('train', six, '--model', INT8_BACKBONE, '--epochs', '1', '--batch-size', '8', '--no-cache', '--quiet', '--out', out, '--json');
  assert.equal(r.status, 0, r.stderr);
  const summary = JSON.parse(r.stdout) as { best_val_top5: number | null };
  assert.equal(typeof summary.best_val_top5, 'number');
  const manifest = JSON.parse(readFileSync(join(out, 'graft.json'), 'utf8')) as { history: { val_top5?: number }[] };
  assert.equal(typeof manifest.history[0].val_top5, 'number');
  const report = readFileSync(join(out, 'report.html'), 'utf8');
  assert.match(report, /validation top-5/);
  assert.match(report, /<div class="key">best val top-5<\/div>/);
});
