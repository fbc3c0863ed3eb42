// TF.js layers import against TF.js itself: the committed fixtures (test/fixtures/tfjs, made by
// scripts/make_tfjs_fixtures.ts) hold TF.js's outputs and head inputs on a deterministic input,
// and the real Teachable Machine export in ../shared, when present, runs through both graft and
// @tensorflow/tfjs (CPU backend, nothing downloaded) on the same input.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

import { F, tensor } from '../src/index.ts';
import { createModel } from '../src/models/registry.ts';
import { TfjsLayersModel } from '../src/models/tfjs-model.ts';
import { samePadding } from '../src/models/tfjs-layers.ts';

/** Allowed error, relative to the largest |value| of the reference. */
const RTOL = 1e-4;
const FIXTURES = path.resolve(import.meta.dirname, 'fixtures', 'tfjs');
const REGENERATE = 'regenerate with `node --import tsx scripts/make_tfjs_fixtures.ts`';
const TM_DIR = path.resolve(import.meta.dirname, '..', '..', 'shared', 'weights', 'teachable-machine-mobilenetv2-0.35');

interface Expected {
  input_nhwc_shape: number[]; input: number[];
  output_shape: number[]; output: number[];
  features_shape: number[]; features: number[];
}

function fixture(name: string): { modelJson: string; expected: Expected } {
  const file = path.join(FIXTURES, name, 'expected.json');
  if (!existsSync(file)) assert.fail(`test/fixtures/tfjs/${name}/expected.json is missing: ${REGENERATE}`);
  return { modelJson: path.join(FIXTURES, name, 'model.json'), expected: JSON.parse(readFileSync(file, 'utf8')) as Expected };
}

/** TF.js's NHWC batch as graft's NCHW. */
function nhwcToNchw(data: ArrayLike<number>, [n, h, w, c]: number[]): Float32Array {
  const out = new Float32Array(n * c * h * w);
  for (let b = 0; b < n; b++) for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let k = 0; k < c; k++) {
    out[((b * c + k) * h + y) * w + x] = data[((b * h + y) * w + x) * c + k];
  }
  return out;
}

function maxRelDiff(actual: ArrayLike<number>, expected: ArrayLike<number>): { diff: number; scale: number } {
  assert.equal(actual.length, expected.length, 'lengths differ');
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < expected.length; i++) {
    diff = Math.max(diff, Math.abs(actual[i] - expected[i]));
    scale = Math.max(scale, Math.abs(expected[i]));
  }
  return { diff, scale };
}

function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string): void {
  const { diff, scale } = maxRelDiff(actual, expected);
  assert.ok(diff <= RTOL * scale, `${what}: max |diff| ${diff} exceeds ${RTOL} x ${scale}`);
}

async function load(modelJson: string): Promise<TfjsLayersModel> {
  const m = await createModel(`tfjs:${modelJson}`);
  assert.ok(m instanceof TfjsLayersModel);
  return m.eval();
}

for (const name of ['tiny', 'tiny-uint8', 'tiny-mixed', 'flatten']) {
  test(`${name}: outputs and head inputs equal TF.js's`, async () => {
    const { modelJson, expected } = fixture(name);
    const model = await load(modelJson);
    const x = tensor(nhwcToNchw(expected.input, expected.input_nhwc_shape), [0, 3, 1, 2].map((i) => expected.input_nhwc_shape[i]));
    const out = model.forward(x);
    assert.deepEqual(out.shape, expected.output_shape);
    assertClose(await out.floats(), expected.output, `${name} output`);
    const features = model.features(x);
    assert.deepEqual(features.shape, expected.features_shape);
    assertClose(await features.floats(), expected.features, `${name} features`);
  });
}

test('tiny: labels, preprocessing and Keras layer names', async () => {
  const model = await load(fixture('tiny').modelJson);
  assert.deepEqual(model.labels, ['cat', 'dog', 'bird']);
  assert.equal(model.numClasses, 3);
  assert.equal(model.outputsProbabilities, true);
  assert.equal(model.numFeatures, 6);
  assert.deepEqual(model.inputShape, [3, 8, 8]);
  const p = model.preprocessing!;
  assert.equal(p.resizeSize, 8);
  assert.equal(p.cropSize, 8);
  // Teachable Machine's x / 127 - 1 as ToTensor (x / 255) then Normalize.
  for (const v of [0, 127, 255]) assert.ok(Math.abs((v / 255 - p.mean[0]) / p.std[0] - (v / 127 - 1)) < 1e-12);
  const keys = [...model.stateDict().keys()];
  assert.ok(keys.includes('net.features.backbone_model.stem.weight'), keys.join(', '));
  assert.ok(keys.includes('net.features.backbone_model.dw.weight'));
  assert.ok(keys.includes('net.head.fc1.weight'));
  assert.ok(keys.includes('net.features.backbone_model.stem_bn.running_var'));
  const sd = model.stateDict();
  assert.deepEqual(sd.get('net.features.backbone_model.stem.weight')!.shape, [8, 3, 3, 3]);
  assert.deepEqual(sd.get('net.features.backbone_model.dw.weight')!.shape, [16, 1, 3, 3]);
  assert.deepEqual(sd.get('net.head.fc1.weight')!.shape, [8, 6]);
  assert.equal(sd.get('net.head.fc2.bias'), undefined);
});

test('a model without metadata.json has no labels or preprocessing', async () => {
  const model = await load(fixture('flatten').modelJson);
  assert.equal(model.labels, null);
  assert.equal(model.preprocessing, null);
  assert.equal(model.numFeatures, 48);
  assert.equal(model.outputsProbabilities, false);
});

test('the backbone module is the model cut before its head, sharing its parameters', async () => {
  const { modelJson, expected } = fixture('tiny');
  const model = await load(modelJson);
  const backbone = model.backbone();
  assert.deepEqual([...backbone.parameters()].length, [...model.parameters()].length);
  const x = tensor(nhwcToNchw(expected.input, expected.input_nhwc_shape), [2, 3, 8, 8]);
  assertClose(await backbone.forward(x).floats(), expected.features, 'backbone output');
});

test('input that is not an NCHW batch with the model\'s channels is refused', async () => {
  const model = await load(fixture('tiny').modelJson);
  assert.throws(() => model.forward(tensor(new Float32Array(2 * 8 * 8 * 3), [2, 8, 8, 3])), /expected an NCHW image batch \(N, 3, H, W\) but received shape \[2,8,8,3\]/);
});

test('createModel refuses weights and a contradicting numClasses for tfjs: models', async () => {
  const { modelJson } = fixture('tiny');
  await assert.rejects(createModel(`tfjs:${modelJson}`, { weights: 'IMAGENET1K_V1' }), /weights "IMAGENET1K_V1" cannot be combined with tfjs:/);
  assert.ok(await createModel(`tfjs:${modelJson}`, { weights: 'DEFAULT' }), "'DEFAULT' names the export's own weights");
  await assert.rejects(createModel(`tfjs:${modelJson}`, { numClasses: 10 }), /numClasses 10 contradicts .*which has 3 classes/);
  assert.ok(await createModel(`tfjs:${modelJson}`, { numClasses: 3 }));
});

test('TF\'s same padding puts the odd pixel after', () => {
  assert.deepEqual(samePadding(224, 3, 2, 1), [0, 1]);
  assert.deepEqual(samePadding(225, 3, 2, 1), [1, 1]);
  assert.deepEqual(samePadding(7, 3, 1, 1), [1, 1]);
  assert.deepEqual(samePadding(8, 3, 1, 2), [2, 2]);
  assert.deepEqual(samePadding(8, 1, 2, 1), [0, 0]);
});

test('F.pad pads from the last dimension, as torch.nn.functional.pad', async () => {
  const x = tensor([1, 2, 3, 4, 5, 6], [1, 2, 3]);
  const y = F.pad(x, [1, 0, 0, 1]);
  assert.deepEqual(y.shape, [1, 3, 4]);
  assert.deepEqual(await y.tolist(), [[[0, 1, 2, 3], [0, 4, 5, 6], [0, 0, 0, 0]]]);
  assert.throws(() => F.pad(x, [1]), /pad: expected an even number of pads, at most 6, but received \[1\]/);
  assert.throws(() => F.pad(x, [-1, 0]), /pads \[0,0,-1\] and \[0,0,0\] must be integers >= 0/);
});

test('Teachable Machine export: graft equals TF.js', { skip: !existsSync(path.join(TM_DIR, 'model.json')) && 'the shared Teachable Machine export is not present' }, async () => {
  // TF.js greets Node users on stderr with advice to install its native backend; the CPU one is wanted here.
  const warn = console.warn;
  console.warn = () => {};
  const tf = await import('@tensorflow/tfjs');
  await tf.setBackend('cpu').finally(() => { console.warn = warn; });
  const json = JSON.parse(readFileSync(path.join(TM_DIR, 'model.json'), 'utf8'));
  const bin = readFileSync(path.join(TM_DIR, 'weights.bin'));
  const reference = await tf.loadLayersModel({
    load: async () => ({
      modelTopology: json.modelTopology,
      weightSpecs: json.weightsManifest.flatMap((g: { weights: unknown[] }) => g.weights),
      weightData: bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength),
    }),
  });
  const shape = [2, 224, 224, 3];
  // A deterministic image-like input in TM's [-1, 1] range.
  const nhwc = Float32Array.from({ length: shape.reduce((a, b) => a * b) }, (_, i) => Math.sin(i * 0.37) * 0.9 + Math.cos(i * 0.011) * 0.1);
  const x = tf.tensor4d(nhwc, shape as [number, number, number, number]);
  const refOutput = await (reference.predict(x) as import('@tensorflow/tfjs').Tensor).data();
  const refFeatures = await ((reference.layers[0] as import('@tensorflow/tfjs').LayersModel).predict(x) as import('@tensorflow/tfjs').Tensor).data();

  const model = await load(path.join(TM_DIR, 'model.json'));
  assert.equal(model.labels!.length, 5);
  assert.equal(model.numFeatures, 1280);
  const input = tensor(nhwcToNchw(nhwc, shape), [2, 3, 224, 224]);
  const output = await model.forward(input).floats();
  const features = await model.features(input).floats();
  assertClose(output, refOutput as Float32Array, 'Teachable Machine output');
  assertClose(features, refFeatures as Float32Array, 'Teachable Machine features');
  const o = maxRelDiff(output, refOutput as Float32Array);
  const f = maxRelDiff(features, refFeatures as Float32Array);
  console.log(`Teachable Machine vs TF.js: output max |diff| ${o.diff.toExponential(2)} (scale ${o.scale.toFixed(3)}), features max |diff| ${f.diff.toExponential(2)} (scale ${f.scale.toFixed(3)})`);
});
