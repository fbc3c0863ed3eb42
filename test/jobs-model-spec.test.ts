// One parser for every model spec, and one loader that turns any spec into a model to run with
// its preprocessing and labels.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { jobs, tensor } from '../src/index.ts';
import { createModel } from '../src/models/registry.ts';
import { createClassifier } from '../src/models/classifier.ts';
import type { OnnxBackbone } from '../src/models/onnx-backbone.ts';
import { rgbImage } from '../src/data/image.ts';
import { IMAGENET_CATEGORIES } from '../src/models/imagenet-categories.ts';

const { parseModelSpec, formatModelSpec, loadModel, predict } = jobs;
const root = resolve(import.meta.dirname, '..');
const folder = join(root, 'test', 'fixtures', 'export', 'model');
const int8 = join(root, 'assets', 'backbones', 'mobilenetv2-12-int8.onnx');
const tinyTfjs = join(root, 'test', 'fixtures', 'tfjs', 'tiny', 'model.json');

test('parseModelSpec reads every form, and formatModelSpec writes it back', () => {
  const cases: [string, object][] = [
    ['resnet50', { kind: 'zoo', arch: 'resnet50' }],
    ['mobilenet_v3_small', { kind: 'zoo', arch: 'mobilenet_v3_small' }],
    ['my-model', { kind: 'folder', dir: 'my-model' }],
    ['./runs/resnet50', { kind: 'folder', dir: './runs/resnet50' }],
    ['C:\\models\\ants', { kind: 'folder', dir: 'C:\\models\\ants' }],
    ['onnx:models/net.onnx', { kind: 'onnx', file: 'models/net.onnx', tensor: null }],
    ['onnx:models/net.onnx#/pool/Flatten_output_0', { kind: 'onnx', file: 'models/net.onnx', tensor: '/pool/Flatten_output_0' }],
    ['onnx:runs#2/net.onnx#features', { kind: 'onnx', file: 'runs#2/net.onnx', tensor: 'features' }],
    ['tfjs:tm/model.json', { kind: 'tfjs', modelJson: 'tm/model.json' }],
    ['hf:timm/vit_small_patch14_dinov2.lvd142m', { kind: 'hub', repo: 'timm/vit_small_patch14_dinov2.lvd142m' }],
  ];
  for (const [spec, expected] of cases) {
    const parsed = parseModelSpec(spec);
    assert.deepEqual(parsed, { ...expected, spec }, spec);
    assert.deepEqual(parseModelSpec(formatModelSpec(parsed)), { ...parsed, spec: formatModelSpec(parsed) }, `${spec} round trip`);
  }
  assert.deepEqual(parseModelSpec('onnx:net.onnx#'), { kind: 'onnx', spec: 'onnx:net.onnx#', file: 'net.onnx', tensor: null });
  assert.equal(formatModelSpec({ kind: 'folder', spec: 'resnet50', dir: 'resnet50' }), './resnet50', 'a folder named like a zoo model stays a folder');
});

test('parseModelSpec names the spec and the accepted forms when it cannot read one', () => {
  const forms = /a zoo name \(graft models lists them\), a trained model folder, onnx:<file\.onnx>\[#tensor\], tfjs:<model\.json>, hf:<org>\/<name> or timm:<name>/;
  for (const bad of ['', '   ']) {
    assert.throws(() => parseModelSpec(bad), (e: Error) => e instanceof RangeError && forms.test(e.message) && e.message.endsWith(`but received ${JSON.stringify(bad)}`));
  }
  assert.throws(() => parseModelSpec(42 as unknown as string), (e: Error) => e instanceof TypeError && forms.test(e.message) && /but received 42 of type number$/.test(e.message));
  assert.throws(() => parseModelSpec('onnx:'), /^RangeError: Model spec "onnx:" names no file; expected onnx:<file\.onnx>\[#tensor\]$/);
  assert.throws(() => parseModelSpec('onnx:#features'), /Model spec "onnx:#features" names no file/);
  assert.throws(() => parseModelSpec('tfjs:'), /^RangeError: Model spec "tfjs:" names no file; expected tfjs:<model\.json>$/);
  assert.throws(() => parseModelSpec('keras:model.h5'), (e: Error) => e instanceof RangeError && e.message.startsWith('Unknown kind of model spec "keras:" in "keras:model.h5"; expected ') && forms.test(e.message));
  assert.deepEqual(parseModelSpec('timm:vit_base_patch14_dinov2.lvd142m'), { kind: 'hub', spec: 'timm:vit_base_patch14_dinov2.lvd142m', repo: 'timm/vit_base_patch14_dinov2.lvd142m' });
  assert.throws(() => parseModelSpec('hf:../x'), /^RangeError: Expected a Hugging Face repository as <org>\/<name> but received "\.\.\/x"$/);
});

test('builders that take no folders say which forms they take; the loader names folders too', async () => {
  const zoo = /expected one of resnet18, resnet34, .*mobilenet_v3_large, /;
  for (const build of [() => createModel('resnet19'), () => createClassifier('resnet19')]) {
    await assert.rejects(build(), (e: Error) => zoo.test(e.message) && e.message.endsWith('onnx:<file.onnx>[#tensor] or tfjs:<model.json>') && !/folder/.test(e.message));
  }
  await assert.rejects(loadModel('resnet19'), (e: Error) => e.message.startsWith('Unknown model "resnet19"; ') && zoo.test(e.message) && /a trained model folder \(one with graft\.json\)/.test(e.message));
  await assert.rejects(loadModel('./no/such/folder'), /^RangeError: \.\/no\/such\/folder is not a complete graft model folder \(no graft\.json\); graft train --out writes one$/);
  await assert.rejects(loadModel(folder, { weights: 'IMAGENET1K_V1' }), /weights "IMAGENET1K_V1" apply to zoo models; .* brings its own weights/);
});

test('loadModel: a model folder runs with its classes and preprocessing, in eval mode and frozen', async () => {
  const m = await loadModel(folder);
  assert.equal(m.spec.kind, 'folder');
  assert.deepEqual(m.labels, ['ant', 'bee', 'wasp']);
  assert.equal(m.manifest?.model, 'mobilenet_v3_small');
  assert.equal(m.preprocessing.cropSize, 224);
  assert.equal(m.outputs, 'logits');
  assert.equal(m.model.training, false);
  assert.ok([...m.model.parameters()].every((p) => !p.requiresGrad));
});

test('loadModel: a zoo model gets ImageNet categories and its weights\' preprocessing; a folder named like one wins', async () => {
  const m = await loadModel('mobilenet_v3_small', { weights: null });
  assert.deepEqual(m.spec, { kind: 'zoo', spec: 'mobilenet_v3_small', arch: 'mobilenet_v3_small' });
  assert.equal(m.weights, null);
  assert.equal(m.labels, IMAGENET_CATEGORIES);
  assert.equal(m.preprocessing.cropSize, 224);

  const dir = mkdtempSync(join(tmpdir(), 'graft-spec-'));
  const cwd = process.cwd();
  try {
    cpSync(folder, join(dir, 'mobilenet_v3_small'), { recursive: true });
    process.chdir(dir);
    const shadowed = await loadModel('mobilenet_v3_small');
    assert.equal(shadowed.spec.kind, 'folder');
    assert.deepEqual(shadowed.labels, ['ant', 'bee', 'wasp']);
  } finally {
    process.chdir(cwd);
    rmSync(dir, { recursive: true, force: true });
  }
});

test('loadModel: an ONNX file runs whole (its output, classes by index) unless a tensor is named', async () => {
  const whole = await loadModel(`onnx:${int8}`);
  assert.equal(whole.labels, null);
  const image = rgbImage(64, 48, Uint8Array.from({ length: 64 * 48 * 3 }, (_, i) => (i * 37) % 256));
  const [p] = await predict(whole, [image], { topk: 3 });
  assert.equal(p.top.length, 3);
  assert.equal(p.top[0].label, String(p.top[0].index), 'unnamed outputs are labelled by their index');
  assert.ok(p.top[0].index < 1000);

  const features = ((await createModel(`onnx:${int8}`)) as OnnxBackbone).imported.cut.tensor;
  const cut = await loadModel(`onnx:${int8}#${features}`);
  assert.deepEqual(cut.model.forward(tensor(new Float32Array(3 * 224 * 224), [1, 3, 224, 224])).shape, [1, 1280]);
});

test('loadModel: a TF.js (Teachable Machine) model brings its labels, and its probabilities are not softmaxed twice', async () => {
  const m = await loadModel(`tfjs:${tinyTfjs}`);
  assert.deepEqual(m.labels, ['cat', 'dog', 'bird']);
  assert.equal(m.outputs, 'probabilities');
  const image = rgbImage(8, 8, Uint8Array.from({ length: 8 * 8 * 3 }, (_, i) => (i * 53) % 256));
  const [p] = await predict(m, [image], { topk: 3 });
  const t = m.transform.apply(image);
  assert.equal(t.kind, 'tensor');
  const direct = await m.model.forward(tensor(t.data, [1, t.channels, t.height, t.width])).floats();
  for (const { index, prob } of p.top) assert.ok(Math.abs(prob - direct[index]) < 1e-6, `${index}: ${prob} vs ${direct[index]}`);
  assert.ok(Math.abs(p.top.reduce((s, x) => s + x.prob, 0) - 1) < 1e-5);
});
