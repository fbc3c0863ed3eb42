import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { readFile } from 'node:fs/promises';
import { tensor } from '../src/graph/tensor.ts';
import { createClassifier } from '../src/models/classifier.ts';
import { loadModelFolder } from '../src/artifacts/model-folder.ts';
import { exportPth } from '../src/artifacts/export.ts';
import { readPth } from '../src/formats/pth.ts';
import { maxAbs, maxAbsDiff, trainedModelFolder } from './fixtures/export/trained-model.ts';

/**
 * PyTorch export: graft's own reader gets back every key, shape and value, and a model loaded
 * from the file computes what the folder's model computes. The committed fixture's golden (which
 * scripts/check_pth_export.py compares torchvision against) still matches graft.
 */

const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'export');

test('the .pth round trip: keys, shapes, values, and logits of a model loaded from it', async (t) => {
  const dir = await trainedModelFolder(t);
  const out = path.join(dir, 'model.pth');
  await exportPth(dir, out);
  const { model } = await loadModelFolder(dir);
  const sd = model.stateDict();
  const read = await readPth(out);
  assert.deepEqual([...read.keys()], [...sd.keys()], 'the keys, in state-dict order');
  for (const [k, v] of sd) {
    assert.deepEqual(read.get(k)!.shape, v.shape, k);
    assert.deepEqual(read.get(k)!.data, v.data, k);
  }
  const fresh = await createClassifier('mobilenet_v3_small', { weights: null, numClasses: 3 });
  fresh.loadStateDict(read);
  fresh.eval();
  const input = tensor(new Float32Array(3 * 64 * 64).map((_, i) => Math.sin(i)), [1, 3, 64, 64]);
  assert.deepEqual(await fresh.forward(input).floats(), await model.forward(input).floats());
});

test('the committed fixture still gives its golden logits (what torchvision is checked against)', async () => {
  const golden = JSON.parse(await readFile(path.join(fixtures, 'golden.json'), 'utf8'));
  const { model } = await loadModelFolder(path.join(fixtures, 'model'));
  const logits = await model.forward(tensor(Float32Array.from(golden.input), golden.input_shape)).floats();
  assert.ok(maxAbsDiff(logits, golden.logits) <= 1e-6 * Math.max(1, maxAbs(golden.logits)),
    'graft changed its output for the fixture: regenerate with node --import tsx scripts/make_export_fixture.ts');
});
