import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { Linear } from '../src/nn/index.ts';
import * as F from '../src/nn/functional.ts';
import { Tensor, tensor, constant } from '../src/graph/tensor.ts';
import { createModel } from '../src/models/registry.ts';
import { OnnxBackbone, loadOnnxBackbone } from '../src/models/onnx-backbone.ts';
import { dequantize } from '../src/models/dequantize.ts';
import { cutModelBytes } from '../src/formats/onnx-cut.ts';
import { readOnnxModel } from '../src/formats/onnx-import.ts';
import { convertNodes } from '../src/formats/onnx-opset.ts';
import { cutModel } from '../src/formats/onnx-cut.ts';
import { quantizedModel } from './fixtures/onnx/models.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const tinyTorch = path.join(here, 'fixtures', 'onnx', 'tiny_convnet_op12.onnx');
const tinyTorchGolden = JSON.parse(fs.readFileSync(path.join(here, 'fixtures', 'onnx', 'tiny_convnet_op12.json'), 'utf8'));
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'graft-onnx-'));
const quantizedFile = path.join(tmp, 'quantized.onnx');
fs.writeFileSync(quantizedFile, quantizedModel());

/** ONNX Runtime's own run of the cut file, unconverted (source opset, original nodes). */
async function ortFeatures(b: OnnxBackbone, x: Float32Array, dims: number[]): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(cutModelBytes(b.imported.cut));
  try {
    const out = await session.run({ [b.imported.cut.input.name]: new ort.Tensor('float32', x, dims) });
    return out[b.imported.cut.output].data as Float32Array;
  } finally {
    await session.release();
  }
}

function input(dims: number[], seed = 0.37): Float32Array {
  return new Float32Array(dims.reduce((a, b) => a * b, 1)).map((_, i) => Math.sin(i * seed + 1) * 1.5);
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

test('a torch-exported opset-12 model cut before its Gemm gives exactly ONNX Runtime\'s features, and PyTorch\'s', async () => {
  const b = await loadOnnxBackbone(tinyTorch);
  assert.equal(b.imported.cut.tensor, '/Reshape_output_0');
  assert.deepEqual(b.imported.featureShape, [-1, 12]);
  assert.equal(b.numFeatures, 12);
  const dims = [3, 3, 16, 16];
  const x = input(dims);
  const ours = await b.features(tensor(x, dims)).floats();
  assert.deepEqual(Array.from(ours), Array.from(await ortFeatures(b, x, dims)));

  const g = tinyTorchGolden;
  const gx = new Float32Array(g.input_shape.reduce((a: number, c: number) => a * c, 1)).map((_, i) => (i % 17) / 8 - 1);
  const feats = await b.features(tensor(gx, g.input_shape)).floats();
  assert.ok(maxAbsDiff(feats, g.features) < 1e-5, `features differ from PyTorch's by ${maxAbsDiff(feats, g.features)}`);
});

test('the Unsqueeze of an opset-12 flatten is rewritten with its axes as an input for opset 17', async () => {
  const model = await readOnnxModel(tinyTorch);
  const cut = cutModel(model);
  const { nodes, initializers } = convertNodes(model, cut.nodes);
  const unsqueeze = nodes.find((n) => n.op_type === 'Unsqueeze')!;
  assert.equal(unsqueeze.input!.length, 2);
  assert.ok(!(unsqueeze.attribute ?? []).some((a) => a.name === 'axes'));
  const axes = initializers.find((t) => t.name === unsqueeze.input![1])!;
  assert.deepEqual(Array.from(new BigInt64Array(new Uint8Array(axes.raw_data!).buffer)), [0n]);
  assert.equal(nodes.find((n) => n.op_type === 'ReduceMean')!.attribute!.find((a) => a.name === 'axes')!.ints!.length, 2);
});

test('createModel("onnx:file#tensor") cuts where asked; forward is features; a Linear head trains on top', async () => {
  const b = await createModel(`onnx:${tinyTorch}#/Relu_output_0`) as OnnxBackbone;
  assert.ok(b instanceof OnnxBackbone);
  assert.deepEqual(b.imported.featureShape, [-1, 12, 4, 4]);
  assert.deepEqual([...b.parameters()], []);
  assert.deepEqual(b.preprocessing, { resizeSize: 256, cropSize: 224, interpolation: 'bilinear', mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] });
  const x = tensor(input([2, 3, 16, 16]), [2, 3, 16, 16]);
  assert.deepEqual(Array.from(await b.forward(x).floats()), Array.from(await b.features(x).floats()));
  assert.throws(() => b.requiresGrad_(true), /no trainable parameters; fine-tune dequantize\(backbone\) instead/);
  await assert.rejects(createModel(`onnx:${tinyTorch}`, { numClasses: 3 }), /backbone without a head/);

  const custom = await loadOnnxBackbone(tinyTorch, { preprocessing: { cropSize: 16, resizeSize: 18 } });
  assert.equal(custom.preprocessing.cropSize, 16);
  assert.deepEqual(custom.preprocessing.mean, [0.485, 0.456, 0.406]);

  // The same backbone twice in one graph: its weights are stored once, its nodes twice.
  const twice = F.add(b.features(x), b.features(F.mul(x, 0.5)));
  const single = await F.add(b.features(x), b.features(tensor(input([2, 3, 16, 16]).map((v) => v * 0.5), [2, 3, 16, 16]))).floats();
  assert.ok(maxAbsDiff(await twice.floats(), single) < 1e-6);
});

test('head-only training on a frozen ONNX backbone; differentiating through it names the op', { skip: typeof Tensor.prototype.backward !== 'function' && 'Tensor.prototype.backward is not available yet (autodiff)' }, async () => {
  const b = await loadOnnxBackbone(tinyTorch);
  const head = new Linear(b.numFeatures, 2);
  const dims = [4, 3, 16, 16];
  const x = tensor(input(dims), dims);
  const onehot = constant([1, 0, 0, 1, 1, 0, 0, 1], [4, 2]);
  const loss = F.neg(F.mean(F.sum(F.mul(F.logSoftmax(head.forward(b.features(x)), 1), onehot), 1)));
  await loss.backward();
  assert.deepEqual(head.weight.grad!.shape, [2, 12]);

  const xs = tensor(input(dims), dims);
  xs.requiresGrad = true;
  await assert.rejects(F.sum(b.features(xs)).backward(), /onnx_subgraph/);
});

test('an int8 model in the ONNX Model Zoo style runs as it is, equal to ONNX Runtime; dequantized it is close', async () => {
  const b = await loadOnnxBackbone(quantizedFile);
  assert.equal(b.imported.cut.tensor, 'features');
  assert.ok(b.imported.cut.quantization);
  assert.deepEqual(b.imported.featureShape, [-1, 4]);
  const dims = [3, 3, 8, 8];
  const x = input(dims, 0.7);
  const ours = await b.features(tensor(x, dims)).floats();
  assert.deepEqual(Array.from(ours), Array.from(await ortFeatures(b, x, dims)));

  const float = dequantize(b).eval();
  assert.deepEqual([...float.namedParameters()].map(([k, p]) => `${k} [${p.shape}]`), [
    'QLinearConv_1.weight [4,3,3,3]', 'QLinearConv_1.bias [4]', 'QLinearConv_2.weight [4,4,1,1]', 'QLinearConv_2.bias [4]',
  ]);
  const w = await float.QLinearConv_1.weight.floats();
  assert.ok(Math.abs(w[0] - Math.round(Math.sin(1 * 78.233) * 0.999 * 120) * 0.004) < 1e-7);
  const approx = await float.features(tensor(x, dims)).floats();
  // Quantization error only: a few output steps (0.025) of the pooled features.
  assert.ok(maxAbsDiff(approx, ours) < 0.1, `dequantized features differ by ${maxAbsDiff(approx, ours)}`);
});

test('dequantize() of the full quantized model (cut at its output) keeps the head as a float Linear', async () => {
  const b = await loadOnnxBackbone(`${quantizedFile}#logits`);
  assert.deepEqual(b.imported.featureShape, [-1, 3]);
  const float = dequantize(b).eval();
  assert.deepEqual([...float.namedParameters()].map(([k, p]) => `${k} [${p.shape}]`).slice(-1), ['QLinearMatMul_11.weight [3,4]']);
  const dims = [2, 3, 8, 8];
  const x = input(dims, 0.3);
  const diff = maxAbsDiff(await float.features(tensor(x, dims)).floats(), await b.features(tensor(x, dims)).floats());
  assert.ok(diff < 0.2, `dequantized logits differ by ${diff}`);
});

declare module '../src/models/dequantize.ts' {
  interface DequantizedBackbone { QLinearConv_1: import('../src/nn/index.ts').Conv2d }
}
