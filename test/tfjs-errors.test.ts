// Malformed TF.js exports are refused with a message naming the file and the weight or layer,
// never a crash: short, long or missing weight files, manifests that lie or don't parse, layers
// graft does not import, weights that don't fit their layer.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, truncateSync, unlinkSync, writeFileSync, appendFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { createModel } from '../src/models/registry.ts';
import { readTfjsLayersModel } from '../src/formats/tfjs.ts';
import { WeightsFileError } from '../src/formats/errors.ts';

const FIXTURES = path.resolve(import.meta.dirname, 'fixtures', 'tfjs');
const scratch = mkdtempSync(path.join(os.tmpdir(), 'graft-tfjs-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

let copies = 0;
/** A writable copy of a fixture folder; returns its model.json path. */
function copyOf(name: string): string {
  const dir = path.join(scratch, `${name}-${copies++}`);
  cpSync(path.join(FIXTURES, name), dir, { recursive: true });
  return path.join(dir, 'model.json');
}

type ModelJson = { format?: string; modelTopology: any; weightsManifest: any };
function edit(modelJson: string, change: (json: ModelJson) => void): void {
  const json = JSON.parse(readFileSync(modelJson, 'utf8')) as ModelJson;
  change(json);
  writeFileSync(modelJson, JSON.stringify(json));
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

async function rejectsWith(modelJson: string, message: string | RegExp): Promise<void> {
  const expected = typeof message === 'string' ? new RegExp(`^${escape(message)}$`) : message;
  await assert.rejects(createModel(`tfjs:${modelJson}`), (e: unknown) => {
    assert.ok(e instanceof WeightsFileError, `expected a WeightsFileError but got ${String(e)}`);
    assert.match(e.message, expected);
    return true;
  });
}

test('a short weights file names the file and the first weight that does not fit', async () => {
  const modelJson = copyOf('tiny');
  const bin = path.join(path.dirname(modelJson), 'weights.bin');
  truncateSync(bin, 4760 - 10);
  // TF.js writes batch-norm statistics last; the last one starts at 4728.
  await rejectsWith(modelJson, `Cannot read "${bin}": truncated or corrupt: weight "project_bn/moving_variance" (float32 [8]) needs 32 bytes at offset 4728 but the data ends at 4750`);
});

test('an empty weights file fails on the first weight', async () => {
  const modelJson = copyOf('tiny');
  const bin = path.join(path.dirname(modelJson), 'weights.bin');
  truncateSync(bin, 0);
  await rejectsWith(modelJson, `Cannot read "${bin}": truncated or corrupt: weight "stem/kernel" (float32 [3,3,3,8]) needs 864 bytes at offset 0 but the data ends at 0`);
});

test('a weights file longer than its manifest is refused', async () => {
  const modelJson = copyOf('tiny');
  const bin = path.join(path.dirname(modelJson), 'weights.bin');
  appendFileSync(bin, Buffer.alloc(8));
  await rejectsWith(modelJson, `Cannot read "${bin}": holds 4768 bytes but the manifest in model.json describes 4760; the weights do not belong to this model.json`);
});

test('a missing weights file is named', async () => {
  const modelJson = copyOf('tiny');
  const bin = path.join(path.dirname(modelJson), 'weights.bin');
  unlinkSync(bin);
  await rejectsWith(modelJson, `Cannot read "${modelJson}": weights file "weights.bin" named in weightsManifest is missing (looked for ${bin})`);
});

test('a manifest claiming a huge weight fails on size, without allocating it', async () => {
  const modelJson = copyOf('tiny');
  edit(modelJson, (j) => { j.weightsManifest[0].weights[0].shape = [100000, 100000, 3, 8]; });
  await rejectsWith(modelJson, /^Cannot read ".*weights\.bin": truncated or corrupt: weight "stem\/kernel" \(float32 \[100000,100000,3,8\]\) needs 960000000000 bytes at offset 0 but the data ends at 4760$/);
  edit(modelJson, (j) => { j.weightsManifest[0].weights[0].shape = [1e9, 1e9, 1e9]; });
  await rejectsWith(modelJson, `Cannot read "${modelJson}": weight "stem/kernel" of shape [1000000000,1000000000,1000000000] is too large`);
});

test('an unknown layer class is named with the layer and what graft imports', async () => {
  const modelJson = copyOf('flatten');
  edit(modelJson, (j) => { j.modelTopology.config.layers[3].class_name = 'LSTM'; });
  await rejectsWith(modelJson, /^Cannot read ".*model\.json": layer "flatten" has class LSTM, which graft does not import; supported layers: InputLayer, Conv2D, DepthwiseConv2D, /);
});

test('unsupported layer options are refused with the layer name', async () => {
  const relu = copyOf('tiny');
  edit(relu, (j) => {
    const backbone = j.modelTopology.config.layers[0].config.layers[0].config;
    backbone.layers.find((l: any) => l.name === 'stem_relu').config.negative_slope = 0.1;
  });
  await rejectsWith(relu, `Cannot read "${relu}": layer "stem_relu" (ReLU) has negative_slope 0.1 and threshold 0; graft imports ReLU with both 0`);
  const act = copyOf('flatten');
  edit(act, (j) => { j.modelTopology.config.layers[4].config.activation = 'gelu'; });
  await rejectsWith(act, `Cannot read "${act}": layer "out" has activation "gelu"; graft imports linear, relu, relu6, sigmoid, softmax, swish, silu`);
  const fmt = copyOf('flatten');
  edit(fmt, (j) => { j.modelTopology.config.layers[0].config.data_format = 'channels_first'; });
  await rejectsWith(fmt, `Cannot read "${fmt}": layer "conv_a" has data_format "channels_first"; graft imports channels_last models`);
});

test('bad manifests: not a list, unknown dtype or quantization, duplicates, paths outside the folder', async () => {
  const cases: [(j: ModelJson) => void, string][] = [
    [(j) => { j.weightsManifest = { paths: ['weights.bin'] }; }, 'weightsManifest is an object (Object), expected a list of weight groups'],
    [(j) => { delete j.weightsManifest[0].paths; }, 'weightsManifest[0] needs "paths" and "weights" lists'],
    [(j) => { j.weightsManifest[0].weights[2].dtype = 'string'; }, 'weight "stem_bn/beta" has dtype "string"; layers models store float32 weights (optionally quantized)'],
    [(j) => { j.weightsManifest[0].weights[1].shape = [8, -1]; }, 'weight "stem_bn/gamma" has shape [8,-1], expected a list of integers >= 0'],
    [(j) => { j.weightsManifest[0].weights[0].quantization = { dtype: 'int4', scale: 1, min: 0 }; }, 'weight "stem/kernel" has quantization dtype "int4"; expected uint8, uint16 or float16'],
    [(j) => { j.weightsManifest[0].weights[0].quantization = { dtype: 'uint8' }; }, 'weight "stem/kernel" is quantized to uint8 but its scale and min are not both finite numbers'],
    [(j) => { j.weightsManifest[0].weights[1].name = 'stem/kernel'; }, 'weight "stem/kernel" is listed twice in weightsManifest'],
    [(j) => { j.weightsManifest[0].paths = ['../elsewhere.bin']; }, 'weights file "../elsewhere.bin" is outside the model\'s folder'],
    [(j) => { j.weightsManifest[0].paths = ['/etc/hostname']; }, 'weights file "/etc/hostname" is outside the model\'s folder'],
    [(j) => { j.format = 'graph-model'; }, 'format is "graph-model"; graft imports TF.js layers models ("layers-model"), not graph models'],
    [(j) => { j.modelTopology = null; }, 'modelTopology is null, expected the Keras model config'],
  ];
  for (const [change, message] of cases) {
    const modelJson = copyOf('tiny');
    edit(modelJson, change);
    await rejectsWith(modelJson, `Cannot read "${modelJson}": ${message}`);
  }
});

test('weights that do not fit the layers are refused by name', async () => {
  const renamed = copyOf('tiny');
  edit(renamed, (j) => { j.weightsManifest[0].weights[0].name = 'stem/kernel_renamed'; });
  await rejectsWith(renamed, `Cannot read "${renamed}": layer "stem" needs weight "stem/kernel", which weightsManifest does not list`);
  const reshaped = copyOf('flatten');
  edit(reshaped, (j) => {
    const w = j.weightsManifest[0].weights;
    const kernel = w.find((s: any) => s.name === 'out/kernel');
    kernel.shape = [5, 48];
  });
  await rejectsWith(reshaped, `Cannot read "${reshaped}": weight "out/kernel" has shape [5,48] but layer "out" needs [?,5]`);
});

test('model.json that is not JSON, or missing, is named', async () => {
  const modelJson = copyOf('tiny');
  writeFileSync(modelJson, '{"modelTopology": ');
  await rejectsWith(modelJson, /^Cannot read ".*model\.json": not valid JSON \(/);
  const missing = path.join(scratch, 'nowhere', 'model.json');
  await rejectsWith(missing, `Cannot read "${missing}": no such file`);
});

test('metadata.json labels must match the model\'s classes', async () => {
  const modelJson = copyOf('tiny');
  writeFileSync(path.join(path.dirname(modelJson), 'metadata.json'), JSON.stringify({ labels: ['a', 'b'] }));
  await rejectsWith(modelJson, `Cannot read "${modelJson}": metadata.json lists 2 labels but the model outputs 3 classes`);
});

test('the reader alone returns every weight dequantized, by manifest name', async () => {
  const file = await readTfjsLayersModel(path.join(FIXTURES, 'tiny-uint8', 'model.json'));
  const kernel = file.weights.get('stem/kernel')!;
  assert.deepEqual(kernel.shape, [3, 3, 3, 8]);
  assert.equal(kernel.storedAs, 'uint8');
  const spec = JSON.parse(readFileSync(path.join(FIXTURES, 'tiny-uint8', 'model.json'), 'utf8')).weightsManifest[0].weights[0];
  const { scale, min } = spec.quantization;
  const q = readFileSync(path.join(FIXTURES, 'tiny-uint8', 'weights.bin'))[5];
  assert.equal(kernel.data[5], Math.fround(q * scale + min));
  assert.deepEqual(file.metadata?.labels, ['cat', 'dog', 'bird']);
});
