// The evaluate job takes a loaded model or any spec, and says which class folders it cannot match.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { jobs } from '../src/index.ts';

const root = resolve(import.meta.dirname, '..');
const modelDir = join(root, 'test', 'fixtures', 'export', 'model');
const val = join(root, 'assets', 'sample-data', 'hymenoptera-mini', 'val');
const dir = mkdtempSync(join(tmpdir(), 'graft-evaluate-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

/** The sample's ants and bees under the fixture model's class names, plus `extra` folders. */
function labelled(name: string, extra: string[] = []): string {
  const data = join(dir, name);
  for (const [from, to] of [['ants', 'ant'], ['bees', 'bee'], ...extra.map((e) => ['ants', e])]) {
    mkdirSync(join(data, 'val', to), { recursive: true });
    for (const f of readdirSync(join(val, from)).sort().slice(0, 3)) copyFileSync(join(val, from, f), join(data, 'val', to, f));
  }
  return data;
}

test('evaluate gives the same metrics for a spec and for the model loaded from it, on val/ when there is one', async () => {
  const data = labelled('subset');
  const events: jobs.EvaluateEvent[] = [];
  const bySpec = await jobs.evaluate(modelDir, data, { batchSize: 4, onEvent: (e) => events.push(e) });
  const byModel = await jobs.evaluate(await jobs.loadModel(modelDir), data, { batchSize: 4 });
  assert.equal(bySpec.root, join(data, 'val'));
  assert.equal(bySpec.count, 6);
  assert.deepEqual(bySpec.classes, ['ant', 'bee', 'wasp']);
  assert.deepEqual(bySpec.confusion, byModel.confusion);
  assert.ok(Math.abs(bySpec.loss - byModel.loss) < 1e-6);
  assert.deepEqual(events, [{ type: 'batch', done: 4, total: 6 }, { type: 'batch', done: 6, total: 6 }]);
});

test('evaluate names class folders the model does not know, and stops on an aborted signal', async () => {
  await assert.rejects(jobs.evaluate(modelDir, labelled('unknown', ['hornet'])), /val has class folders the model does not know: hornet \(the model's classes: ant, bee, wasp\)/);
  await assert.rejects(jobs.evaluate(modelDir, labelled('aborted'), { signal: AbortSignal.abort() }), { name: 'AbortError', message: 'Evaluation was stopped by its AbortSignal' });
});
