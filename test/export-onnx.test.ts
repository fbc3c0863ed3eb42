import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { GraphBuilder } from '../src/graph/emit.ts';
import { ModelProto } from '../src/graph/onnx-schema.ts';
import { DataType } from '../src/graph/onnx-schema.ts';
import { tensor } from '../src/graph/tensor.ts';
import * as F from '../src/graph/functional.ts';
import { decodeImage } from '../src/data/decode.ts';
import { evalPreset } from '../src/data/transforms/presets.ts';
import type { ImageTensor, RgbImage } from '../src/data/image.ts';
import { loadModelFolder } from '../src/artifacts/model-folder.ts';
import { exportOnnx, exportPth, exportSafetensors } from '../src/artifacts/export.ts';
import { emitPreprocessing } from '../src/artifacts/export-preprocessing.ts';
import { readSafetensors, readSafetensorsMetadata } from '../src/formats/safetensors.ts';
import { readFile } from 'node:fs/promises';
import { deterministicInput } from './support/deterministic.ts';
import { CLASSES, PREPROCESSING, maxAbs, maxAbsDiff, trainedModelFolder } from './fixtures/export/trained-model.ts';

/**
 * ONNX export: the file runs in onnxruntime-node at batch sizes other than the traced one and
 * gives graft's forward; it describes itself; the in-graph preprocessing equals graft's eval
 * transform on real images of different sizes.
 */

const images = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'data', 'images');

async function graftForward(dir: string, input: Float32Array, shape: number[], softmax = false): Promise<Float32Array> {
  const { model } = await loadModelFolder(dir);
  const y = model.forward(tensor(input, shape));
  return (softmax ? F.softmax(y, 1) : y).floats();
}

async function run(bytes: Uint8Array, feeds: Record<string, ort.Tensor>): Promise<Record<string, ort.Tensor>> {
  const session = await ort.InferenceSession.create(bytes);
  try {
    return await session.run(feeds);
  } finally {
    await session.release();
  }
}

test('the exported graph equals graft at batch sizes 1 and 5, and describes itself', async (t) => {
  const dir = await trainedModelFolder(t);
  const bytes = await exportOnnx(dir);
  for (const batch of [1, 5]) {
    const shape = [batch, 3, 224, 224];
    const input = deterministicInput(shape, batch);
    const out = await run(bytes, { input: new ort.Tensor('float32', input, shape) });
    assert.deepEqual(out.logits.dims, [batch, CLASSES.length]);
    const own = await graftForward(dir, input, shape);
    const diff = maxAbsDiff(out.logits.data as Float32Array, own);
    t.diagnostic(`batch ${batch}: max |ORT-node - graft| ${diff.toExponential(2)}, logits up to ${maxAbs(own).toFixed(3)}`);
    assert.ok(diff <= 1e-4 * Math.max(1, maxAbs(own)), `batch ${batch}: difference ${diff}`);
  }

  const proto = ModelProto.decode(bytes) as unknown as {
    opset_import: { domain: string; version: number | { toString(): string } }[]; metadata_props: { key: string; value: string }[];
    graph: { input: { name: string; type: { tensor_type: { shape: { dim: { dim_param?: string; dim_value?: number }[] } } } }[]; output: { name: string }[]; initializer: unknown[] };
  };
  assert.equal(Number(proto.opset_import.find((o) => o.domain === '')?.version), 17);
  const meta = Object.fromEntries(proto.metadata_props.map((p) => [p.key, p.value]));
  assert.deepEqual(JSON.parse(meta.labels), CLASSES);
  assert.deepEqual(JSON.parse(meta.preprocessing), PREPROCESSING);
  assert.equal(meta.graft_model, 'mobilenet_v3_small');
  assert.equal(proto.graph.input.length, 1, 'parameters are initializers, not inputs');
  assert.equal(proto.graph.input[0].name, 'input');
  assert.equal(proto.graph.input[0].type.tensor_type.shape.dim[0].dim_param, 'N');
  assert.deepEqual(proto.graph.output.map((o) => o.name), ['logits']);
});

test('--softmax: the output is probabilities, graft softmax of the logits', async (t) => {
  const dir = await trainedModelFolder(t);
  const bytes = await exportOnnx(dir, { softmax: true });
  const shape = [2, 3, 224, 224];
  const input = deterministicInput(shape, 3);
  const out = await run(bytes, { input: new ort.Tensor('float32', input, shape) });
  const probs = out.probabilities.data as Float32Array;
  assert.ok(maxAbsDiff(probs, await graftForward(dir, input, shape, true)) <= 1e-6);
  for (let r = 0; r < 2; r++) assert.ok(Math.abs(probs[r * 3] + probs[r * 3 + 1] + probs[r * 3 + 2] - 1) < 1e-6);
  const meta = Object.fromEntries((ModelProto.decode(bytes) as unknown as { metadata_props: { key: string; value: string }[] }).metadata_props.map((p) => [p.key, p.value]));
  assert.equal(meta.graft_output, 'probabilities');
});

/** Images of several sizes and aspect ratios: committed photos and made-up ones (odd sizes, wide, tall, already 256). */
async function testImages(): Promise<{ name: string; image: RgbImage }[]> {
  const out = [];
  for (const f of ['rgb.jpg', 'tall.jpg', 'palette8.bmp', 'exif-rotate90.jpg']) out.push({ name: f, image: await decodeImage(path.join(images, f)) });
  for (const [w, h] of [[301, 199], [256, 700], [1000, 257], [224, 224]]) {
    const data = new Uint8Array(w * h * 3);
    for (let i = 0; i < data.length; i++) data[i] = (Math.imul(i, 2654435761) >>> 24) ^ ((i / 3 / w) & 0x3f);
    out.push({ name: `synthetic ${w}x${h}`, image: { kind: 'image', width: w, height: h, data } });
  }
  return out;
}

const pixels = (image: RgbImage) => new ort.Tensor('uint8', image.data, [1, image.height, image.width, 3]);

test('in-graph preprocessing equals graft eval transform: normalized tensors and logits', async (t) => {
  for (const preprocessing of [PREPROCESSING, { ...PREPROCESSING, resizeSize: 232, interpolation: 'bicubic' as const }]) {
    const b = new GraphBuilder();
    b.addInput({ name: 'pixels', dtype: 'float32', elemType: DataType.UINT8, shape: ['N', 'H', 'W', 3] });
    b.alias(emitPreprocessing(b, 'pixels', preprocessing), 'x');
    b.addOutput({ name: 'x', dtype: 'float32', shape: null });
    const session = await ort.InferenceSession.create(b.serialize());
    t.after(() => session.release());
    const transform = evalPreset(preprocessing);
    for (const { name, image } of await testImages()) {
      const expected = (transform.apply(image) as ImageTensor).data;
      const got = (await session.run({ pixels: pixels(image) })).x.data as Float32Array;
      const diff = maxAbsDiff(got, expected);
      assert.equal(diff, 0, `${preprocessing.interpolation} ${preprocessing.resizeSize}, ${name} (${image.width}x${image.height}): normalized tensors differ by up to ${diff}`);
    }
  }

  const dir = await trainedModelFolder(t);
  const bytes = await exportOnnx(dir, { withPreprocessing: true });
  const transform = evalPreset(PREPROCESSING);
  let worst = 0;
  for (const { image } of await testImages()) {
    const logits = (await run(bytes, { input: pixels(image) })).logits.data as Float32Array;
    const own = await graftForward(dir, (transform.apply(image) as ImageTensor).data, [1, 3, 224, 224]);
    worst = Math.max(worst, maxAbsDiff(logits, own) / Math.max(1, maxAbs(own)));
  }
  t.diagnostic(`with preprocessing: normalized tensors identical; max logit difference ${worst.toExponential(2)}`);
  assert.ok(worst <= 1e-4);
});

test('safetensors export carries labels and preprocessing; pytorch export refuses imported backbones', async (t) => {
  const dir = await trainedModelFolder(t);
  const out = path.join(dir, 'weights.safetensors');
  await exportSafetensors(dir, out);
  const meta = readSafetensorsMetadata(await readFile(out), out);
  assert.deepEqual(JSON.parse(meta.labels), CLASSES);
  assert.deepEqual(JSON.parse(meta.preprocessing), PREPROCESSING);
  assert.equal(meta.graft_model, 'mobilenet_v3_small');
  const { model } = await loadModelFolder(dir);
  const written = await readSafetensors(out);
  for (const [k, v] of model.stateDict()) assert.deepEqual(written.get(k)?.data, v.data, k);

  const manifest = { model: 'onnx:backbone.onnx#features', classes: CLASSES, preprocessing: PREPROCESSING };
  await assert.rejects(exportPth({ model, manifest }, path.join(dir, 'x.pth')), {
    name: 'TypeError',
    message: 'Cannot export onnx:backbone.onnx#features as a PyTorch checkpoint: it is an imported ONNX backbone, which has no torchvision module to load the weights into. Export it as onnx (or safetensors) instead',
  });
  await assert.rejects(exportOnnx({ model, manifest: { ...manifest, classes: ['one', 'two'] } }), {
    name: 'RangeError', message: 'Expected 3 class names (the model\'s outputs) for the classes of the manifest but received 2 names',
  });
});
