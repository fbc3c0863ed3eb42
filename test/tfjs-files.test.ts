// Which files a TF.js model is made of, and the paths it may reach: a trained model folder gets a
// copy of model.json, the weight files its manifest names and metadata.json, and nothing else
// from the export's folder; a weight or metadata file that is a link out of the folder is refused
// by its real path; a model.json nested thousands of levels deep is refused by name, not by a
// stack overflow, and one of many layers in a hostile order is built without a quadratic scan.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { jobs, type TrainConfig } from '../src/index.ts';
import { copyTfjsModel, MAX_JSON_DEPTH, readTfjsLayersModel, tfjsModelFiles } from '../src/formats/tfjs.ts';
import { WeightsFileError } from '../src/formats/errors.ts';
import { createModel } from '../src/models/registry.ts';
import { TfjsLayersModel } from '../src/models/tfjs-model.ts';
import { smallDataset } from './support/small-dataset.ts';

const TINY = path.resolve(import.meta.dirname, 'fixtures', 'tfjs', 'tiny');
const scratch = mkdtempSync(path.join(tmpdir(), 'graft-tfjs-files-'));
test.after(() => rmSync(scratch, { recursive: true, force: true }));

let n = 0;
/** The tiny export in a folder of its own, among files that are not part of it. */
function exportAmongOtherFiles(): string {
  const dir = path.join(scratch, `export-${n++}`);
  cpSync(TINY, dir, { recursive: true });
  rmSync(path.join(dir, 'expected.json'));
  writeFileSync(path.join(dir, 'unrelated.bin'), new Uint8Array(64 * 1024));
  mkdirSync(path.join(dir, 'photos'));
  writeFileSync(path.join(dir, 'photos', 'cat.jpg'), 'not the model');
  return path.join(dir, 'model.json');
}

const listTree = (dir: string): string[] => readdirSync(dir, { recursive: true, withFileTypes: true })
  .filter((e) => e.isFile()).map((e) => path.relative(dir, path.join(e.parentPath, e.name))).sort();

async function refused(p: Promise<unknown>, message: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof WeightsFileError, `expected a WeightsFileError but got ${String(e)}`);
    assert.match(e.message, message);
    return true;
  });
}

test('a TF.js model is its model.json, the weight files its manifest names and metadata.json', async () => {
  const modelJson = exportAmongOtherFiles();
  assert.deepEqual(await tfjsModelFiles(modelJson), ['model.json', 'weights.bin', 'metadata.json']);
  const target = path.join(scratch, `copy-${n++}`);
  mkdirSync(target);
  writeFileSync(path.join(target, 'left-from-before.bin'), 'old');
  const copy = await copyTfjsModel(modelJson, target);
  assert.equal(copy, path.join(target, 'model.json'));
  assert.deepEqual(listTree(target), ['metadata.json', 'model.json', 'weights.bin']);
  assert.deepEqual(readFileSync(path.join(target, 'weights.bin')), readFileSync(path.join(path.dirname(modelJson), 'weights.bin')));
  assert.equal((await readTfjsLayersModel(copy)).weights.size, (await readTfjsLayersModel(modelJson)).weights.size);
  assert.equal(await copyTfjsModel(copy, target), copy, 'a model already in place stays');
  assert.deepEqual(listTree(target), ['metadata.json', 'model.json', 'weights.bin']);
});

test('training on an export with --out inside its folder saves the model with only the export\'s own files', async () => {
  const modelJson = exportAmongOtherFiles();
  const data = smallDataset(path.join(scratch, `data-${n++}`), { train: 3, val: 2 });
  const out = path.join(path.dirname(modelJson), 'trained');
  const config: Partial<TrainConfig> = { model: `tfjs:${modelJson}`, epochs: 1, batchSize: 4, augment: 'none', views: 1, featureCache: false, seed: 1 };
  await jobs.train(data, config, { out });
  assert.ok(existsSync(path.join(out, 'graft.json')));
  assert.deepEqual(listTree(path.join(out, 'backbone-tfjs')), ['metadata.json', 'model.json', 'weights.bin']);
  // The folder stands alone: it predicts with the export moved away.
  const moved = path.join(scratch, `moved-${n++}`);
  renameSync(out, moved);
  rmSync(path.dirname(modelJson), { recursive: true });
  const [p] = await jobs.predict(moved, [path.join(data, 'val', 'bees', readdirSync(path.join(data, 'val', 'bees'))[0])], { topk: 2 });
  assert.equal(p.error, undefined);
  assert.deepEqual(p.top.map((t) => t.label).sort(), ['ants', 'bees']);
});

test('a weights file that is a link out of the model\'s folder is refused by its real path', async () => {
  const modelJson = exportAmongOtherFiles();
  const dir = path.dirname(modelJson);
  const outside = path.join(scratch, `outside-${n++}.bin`);
  renameSync(path.join(dir, 'weights.bin'), outside);
  symlinkSync(outside, path.join(dir, 'weights.bin'));
  const message = new RegExp(`weights file "weights\\.bin" is a link to ${outside.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}, outside the model's folder`);
  await refused(readTfjsLayersModel(modelJson), message);
  await refused(tfjsModelFiles(modelJson), message);
  await refused(copyTfjsModel(modelJson, path.join(scratch, `copy-${n++}`)), message);
});

test('a link that stays inside the folder is followed', async () => {
  const modelJson = exportAmongOtherFiles();
  const dir = path.dirname(modelJson);
  mkdirSync(path.join(dir, 'shards'));
  renameSync(path.join(dir, 'weights.bin'), path.join(dir, 'shards', 'weights.bin'));
  symlinkSync(path.join('shards', 'weights.bin'), path.join(dir, 'weights.bin'));
  assert.equal((await readTfjsLayersModel(modelJson)).weights.size, (await readTfjsLayersModel(path.join(TINY, 'model.json'))).weights.size);
  const target = path.join(scratch, `copy-${n++}`);
  await copyTfjsModel(modelJson, target);
  assert.deepEqual(listTree(target), ['metadata.json', 'model.json', 'weights.bin'], 'the link is copied as the file it points to');
});

test('a metadata.json that is a link out of the folder is refused', async () => {
  const modelJson = exportAmongOtherFiles();
  const dir = path.dirname(modelJson);
  const outside = path.join(scratch, `metadata-${n++}.json`);
  renameSync(path.join(dir, 'metadata.json'), outside);
  symlinkSync(outside, path.join(dir, 'metadata.json'));
  await refused(readTfjsLayersModel(modelJson), /metadata file "metadata\.json" is a link to .*, outside the model's folder/);
});

test('a model.json nested deeper than any model config is refused by name, without a stack overflow', async () => {
  const dir = path.join(scratch, `deep-${n++}`);
  mkdirSync(dir);
  const modelJson = path.join(dir, 'model.json');
  // Sequential models inside each other, 100 000 deep: the text is built flat, as no recursive writer could.
  const depth = 100_000;
  const open = '{"class_name":"Sequential","config":{"name":"s","layers":[';
  const leaf = '{"class_name":"Sequential","config":{"name":"leaf","layers":[]}}';
  writeFileSync(modelJson, `{"format":"layers-model","weightsManifest":[],"modelTopology":${open.repeat(depth)}${leaf}${']}}'.repeat(depth)}}`);
  const message = new RegExp(`objects and lists nest more than ${MAX_JSON_DEPTH} levels deep`);
  await refused(readTfjsLayersModel(modelJson), message);
  await refused(jobs.loadModel(`tfjs:${modelJson}`), message);
});

test('Sequential models nested 20 deep still load', async () => {
  const dir = path.join(scratch, `nested-${n++}`);
  mkdirSync(dir);
  const modelJson = path.join(dir, 'model.json');
  const open = '{"class_name":"Sequential","config":{"name":"s","layers":[';
  writeFileSync(modelJson, `{"format":"layers-model","weightsManifest":[],"modelTopology":${open.repeat(20)}{"class_name":"Sequential","config":{"name":"leaf","layers":[]}}${']}}'.repeat(20)}}`);
  assert.equal((await readTfjsLayersModel(modelJson)).weights.size, 0);
});

test('a Functional model of 30 000 layers listed in reverse order is built without a quadratic scan', async () => {
  const dir = path.join(scratch, `flat-${n++}`);
  mkdirSync(dir);
  const count = 30_000;
  const layers: unknown[] = [{ class_name: 'InputLayer', config: { name: 'in', batch_input_shape: [null, 2, 2, 1] }, inbound_nodes: [] }];
  // Each layer feeds the one listed before it: every step of a scan for the next runnable call
  // would walk the whole remaining list, quadratic in the layer count.
  for (let i = count - 1; i >= 0; i--) {
    layers.push({ class_name: 'Activation', config: { name: `a${i}`, activation: i % 2 ? 'relu' : 'linear' }, inbound_nodes: [[[i === 0 ? 'in' : `a${i - 1}`, 0, 0, {}]]] });
  }
  const modelTopology = { class_name: 'Functional', config: { name: 'chain', layers, input_layers: [['in', 0, 0]], output_layers: [[`a${count - 1}`, 0, 0]] } };
  const modelJson = path.join(dir, 'model.json');
  writeFileSync(modelJson, JSON.stringify({ format: 'layers-model', modelTopology, weightsManifest: [] }));
  const started = performance.now();
  const model = await createModel(`tfjs:${modelJson}`);
  const seconds = (performance.now() - started) / 1000;
  assert.ok(model instanceof TfjsLayersModel);
  assert.equal([...model.net.spineLayers()].length, count, 'every layer is on the one path, in order');
  assert.ok(seconds < 20, `building took ${seconds.toFixed(1)} s`);
  console.log(`# ${count} reversed layers built in ${seconds.toFixed(2)} s`);
});
