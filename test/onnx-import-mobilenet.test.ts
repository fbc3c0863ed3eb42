/**
 * The ONNX Model Zoo's int8 MobileNetV2 (opset 12, QLinearConv, com.microsoft QLinearAdd and
 * QLinearGlobalAveragePool, QLinearMatMul, a Shape/Gather/Unsqueeze/Concat/Reshape flatten) as a
 * backbone: the copy bundled in assets/backbones, on bundled sample photos (three ants, three bees),
 * so it runs on a fresh clone.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { Tensor, tensor, constant } from '../src/graph/tensor.ts';
import * as F from '../src/nn/functional.ts';
import { Linear } from '../src/nn/index.ts';
import { loadOnnxBackbone, type OnnxBackbone } from '../src/models/onnx-backbone.ts';
import { dequantize } from '../src/models/dequantize.ts';
import { cutModelBytes } from '../src/formats/onnx-cut.ts';
import { decodeImage, evalPreset } from '../src/data/index.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const modelFile = path.join(repoRoot, 'assets', 'backbones', 'mobilenetv2-12-int8.onnx');
const sampleVal = path.join(repoRoot, 'assets', 'sample-data', 'hymenoptera-mini', 'val');
const firstThree = (cls: string) => fs.readdirSync(path.join(sampleVal, cls)).sort().slice(0, 3).map((f) => path.join(sampleVal, cls, f));
const IMAGES = [...firstThree('bees'), ...firstThree('ants')];
const IS_BEE = [1, 1, 1, 0, 0, 0];

async function batch(): Promise<Tensor> {
  const preset = evalPreset();
  const size = 3 * 224 * 224;
  const data = new Float32Array(IMAGES.length * size);
  for (const [i, name] of IMAGES.entries()) {
    const t = preset.apply(await decodeImage(name)) as { data: Float32Array };
    data.set(t.data, i * size);
  }
  return tensor(data, [IMAGES.length, 3, 224, 224]);
}

async function ortRun(b: OnnxBackbone, x: Tensor): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(cutModelBytes(b.imported.cut));
  try {
    const out = await session.run({ [b.imported.cut.input.name]: new ort.Tensor('float32', await x.floats(), [...x.shape]) });
    return out[b.imported.cut.output].data as Float32Array;
  } finally {
    await session.release();
  }
}

function stats(a: Float32Array, b: Float32Array) {
  let maxDiff = 0, maxAbs = 0, d2 = 0, a2 = 0;
  for (let i = 0; i < a.length; i++) {
    maxDiff = Math.max(maxDiff, Math.abs(a[i] - b[i]));
    maxAbs = Math.max(maxAbs, Math.abs(a[i]));
    d2 += (a[i] - b[i]) ** 2;
    a2 += a[i] ** 2;
  }
  return { maxDiff, maxAbs, relL2: Math.sqrt(d2 / a2) };
}

const topIndices = (row: Float32Array, k: number) => [...row.keys()].sort((a, b) => row[b] - row[a]).slice(0, k);

const argmaxes = (v: Float32Array, k: number) => Array.from({ length: v.length / k }, (_, i) => {
  let best = 0;
  for (let j = 1; j < k; j++) if (v[i * k + j] > v[i * k + best]) best = j;
  return best;
});

test('int8 MobileNetV2 as a backbone: 1280 features equal to ONNX Runtime\'s run of the cut file', async () => {
  const b = await loadOnnxBackbone(modelFile);
  assert.equal(b.imported.cut.tensor, '472_quantized');
  assert.deepEqual(b.imported.featureShape, [-1, 1280]);
  const x = await batch();
  const ours = await b.features(x).floats();
  assert.deepEqual(Array.from(ours), Array.from(await ortRun(b, x)));
});

test('int8 MobileNetV2 dequantized: features differ by quantization error only, and the int8 top-1 is in the float top-5', async () => {
  const x = await batch();
  const b = await loadOnnxBackbone(modelFile);
  const s = stats(await b.features(x).floats(), await dequantize(b).eval().features(x).floats());
  console.log(`# dequantized vs int8 features: max abs diff ${s.maxDiff.toFixed(3)} (feature max ${s.maxAbs.toFixed(3)}), relative L2 ${s.relL2.toFixed(3)}`);
  assert.ok(s.relL2 < 0.3, `relative L2 difference ${s.relL2}`);

  const full = await loadOnnxBackbone(`${modelFile}#output`);
  const int8 = await full.features(x).floats();
  const float = await dequantize(full).eval().features(x).floats();
  // Insects on flowers sit between ImageNet classes, so quantization can swap close runners-up:
  // each image's int8 top-1 must be among the float model's top 5.
  const int8Top = argmaxes(int8, 1000);
  for (const [i, cls] of int8Top.entries()) {
    const top5 = topIndices(float.subarray(i * 1000, (i + 1) * 1000), 5);
    assert.ok(top5.includes(cls), `image ${i}: int8 top-1 ${cls}, float top-5 ${top5}`);
  }
});

test('fine-tuning dequantized MobileNetV2 with a new head lowers the training loss', {
  skip: (typeof Tensor.prototype.backward !== 'function' && 'Tensor.prototype.backward is not available yet (autodiff)'),
}, async () => {
  const x = await batch();
  const backbone = dequantize(await loadOnnxBackbone(modelFile)).train();
  const head = new Linear(1280, 2);
  const onehot = constant(IS_BEE.flatMap((c) => (c ? [0, 1] : [1, 0])), [IMAGES.length, 2]);
  const params = [...backbone.parameters(), ...head.parameters()];
  const lr = 0.01;
  const losses: number[] = [];
  for (let step = 0; step < 4; step++) {
    for (const p of params) p.grad = null;
    const logits = head.forward(backbone.features(x));
    const loss = F.neg(F.mean(F.sum(F.mul(F.logSoftmax(logits, 1), onehot), 1)));
    await loss.backward();
    losses.push(await loss.item());
    for (const p of params) {
      const g = await p.grad!.floats();
      const w = p.value as Float32Array;
      p.assign(w.map((v, i) => v - lr * g[i]));
    }
  }
  const final = await F.neg(F.mean(F.sum(F.mul(F.logSoftmax(head.forward(backbone.features(x)), 1), onehot), 1))).item();
  console.log(`# fine-tuning loss: ${[...losses, final].map((l) => l.toFixed(4)).join(' -> ')}`);
  assert.ok(final < losses[0], `loss went from ${losses[0]} to ${final}`);
});
