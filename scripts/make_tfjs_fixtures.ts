/**
 * Fixtures for graft's TF.js layers import tests (test/fixtures/tfjs), made by TF.js itself.
 *
 *     node --import tsx scripts/make_tfjs_fixtures.ts
 *
 * Writes, per model, a folder with model.json + weights.bin as TF.js's own model.save() lays
 * them out, and expected.json with TF.js's outputs on a deterministic input:
 *   tiny/        a Teachable-Machine-shaped model: an outer Sequential holding a Functional
 *                backbone (conv 'same' stride 2 on an even size, depthwise with depth multiplier,
 *                batch norm, relu6, zero padding, add, concatenate, dilation, global pooling)
 *                and a Sequential head (Dense relu, Dropout, Dense softmax); plus metadata.json
 *   tiny-uint8/  the same model with every weight quantized to uint8 (scale/min per weight)
 *   tiny-mixed/  the same with weights stored as uint16 and float16, alternately
 *   flatten/     Sequential conv -> Reshape (to another image shape) -> conv -> Flatten -> Dense on a
 *                non-square input, where the NHWC flatten order matters
 * The quantized variants are read back by TF.js to compute their expected outputs, so the tests
 * check graft's dequantization against TF.js's. Needs only the @tensorflow/tfjs dev dependency
 * (CPU backend, no download).
 */
import * as tf from '@tensorflow/tfjs';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const OUT = path.resolve(import.meta.dirname, '..', 'test', 'fixtures', 'tfjs');
const BATCH = 2;

/** A reproducible value in [-1, 1) for index i (no Math.random, so reruns give the same files). */
function hashed(i: number, seed: number): number {
  let h = Math.imul(i + 1, 0x9e3779b1) ^ Math.imul(seed + 7, 0x85ebca77);
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
  h ^= h >>> 16;
  return (h >>> 0) / 2 ** 31 - 1;
}

function values(n: number, seed: number, scale: number, offset = 0): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => offset + scale * hashed(i, seed));
}

/** Every weight set to deterministic values; batch-norm variances kept positive. */
function setDeterministicWeights(model: tf.LayersModel): void {
  let seed = 1;
  for (const layer of model.layers.flatMap(allLayers)) {
    const ws = layer.getWeights();
    if (!ws.length) continue;
    layer.setWeights(layer.weights.map((w, j) => {
      const n = ws[j].size;
      const name = w.originalName;
      const v = name.endsWith('moving_variance') ? values(n, seed++, 0.4, 1)
        : name.endsWith('gamma') ? values(n, seed++, 0.3, 1)
          : values(n, seed++, name.endsWith('kernel') ? 0.5 : 0.2);
      return tf.tensor(v, ws[j].shape);
    }));
  }
}

function allLayers(layer: tf.layers.Layer): tf.layers.Layer[] {
  return layer instanceof tf.LayersModel ? layer.layers.flatMap(allLayers) : [layer];
}

interface Saved { modelTopology: unknown; weightSpecs: tf.io.WeightsManifestEntry[]; weightData: Uint8Array }

async function save(model: tf.LayersModel): Promise<Saved> {
  let saved: Saved | null = null;
  await model.save({
    save: async (a: tf.io.ModelArtifacts) => {
      const data = Array.isArray(a.weightData) ? tf.io.concatenateArrayBuffers(a.weightData) : a.weightData!;
      saved = { modelTopology: a.modelTopology, weightSpecs: a.weightSpecs!, weightData: new Uint8Array(data) };
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    },
  });
  return saved!;
}

function write(dir: string, s: Saved, extra: Record<string, unknown> = {}): void {
  mkdirSync(dir, { recursive: true });
  const modelJson = {
    modelTopology: s.modelTopology, format: 'layers-model', generatedBy: `TensorFlow.js tfjs-layers v${tf.version_layers}`, convertedBy: null,
    weightsManifest: [{ paths: ['weights.bin'], weights: s.weightSpecs }],
  };
  writeFileSync(path.join(dir, 'model.json'), JSON.stringify(modelJson));
  writeFileSync(path.join(dir, 'weights.bin'), s.weightData);
  for (const [name, content] of Object.entries(extra)) writeFileSync(path.join(dir, name), JSON.stringify(content));
}

/** Re-encodes float32 weights as TF.js's converter quantizes them: q = round((w - min) / scale). */
function quantize(s: Saved, dtypeFor: (i: number) => 'uint8' | 'uint16' | 'float16'): Saved {
  const f32 = new Float32Array(s.weightData.buffer.slice(s.weightData.byteOffset, s.weightData.byteOffset + s.weightData.byteLength));
  const parts: Uint8Array[] = [];
  const specs: tf.io.WeightsManifestEntry[] = [];
  let at = 0;
  s.weightSpecs.forEach((spec, i) => {
    const n = spec.shape.reduce((a, b) => a * b, 1);
    const w = f32.subarray(at, at + n);
    at += n;
    const dtype = dtypeFor(i);
    if (dtype === 'float16') {
      const half = new Uint16Array(n);
      for (let k = 0; k < n; k++) half[k] = toHalf(w[k]);
      parts.push(new Uint8Array(half.buffer));
      specs.push({ ...spec, quantization: { dtype } });
      return;
    }
    const levels = dtype === 'uint8' ? 255 : 65535;
    let min = Infinity;
    let max = -Infinity;
    for (const v of w) { min = Math.min(min, v); max = Math.max(max, v); }
    const scale = max > min ? (max - min) / levels : 1;
    const q = dtype === 'uint8' ? new Uint8Array(n) : new Uint16Array(n);
    for (let k = 0; k < n; k++) q[k] = Math.round((w[k] - min) / scale);
    parts.push(new Uint8Array(q.buffer));
    specs.push({ ...spec, quantization: { dtype, scale, min } });
  });
  const total = parts.reduce((a, p) => a + p.length, 0);
  const data = new Uint8Array(total);
  let off = 0;
  for (const p of parts) { data.set(p, off); off += p.length; }
  return { modelTopology: s.modelTopology, weightSpecs: specs, weightData: data };
}

function toHalf(v: number): number {
  const f = new Float32Array([v]);
  const x = new Uint32Array(f.buffer)[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = ((x >>> 23) & 0xff) - 127 + 15;
  const mant = x & 0x7fffff;
  if (exp <= 0) return sign | Math.round((mant | 0x800000) / 2 ** (14 - exp));
  if (exp >= 31) return sign | 0x7c00;
  return sign + (exp << 10) + Math.round(mant / 8192);
}

async function load(s: Saved): Promise<tf.LayersModel> {
  const buf = s.weightData.slice().buffer as ArrayBuffer;
  return tf.loadLayersModel({ load: async () => ({ modelTopology: s.modelTopology as object, weightSpecs: s.weightSpecs, weightData: buf }) });
}

/** TF.js's output and the input of the first head Dense layer, for NHWC `input`. */
async function expected(model: tf.LayersModel, featuresOf: (m: tf.LayersModel) => tf.LayersModel, inputShape: number[], input: Float32Array) {
  const x = tf.tensor(input, [BATCH, ...inputShape]);
  const output = model.predict(x) as tf.Tensor;
  const features = featuresOf(model).predict(x) as tf.Tensor;
  return {
    input_nhwc_shape: [BATCH, ...inputShape],
    input: Array.from(input),
    output_shape: output.shape,
    output: Array.from(await output.data()),
    features_shape: features.shape,
    features: Array.from(await features.data()),
    tfjs_version: tf.version.tfjs,
  };
}

function tinyModel(): tf.LayersModel {
  const L = tf.layers;
  const input = tf.input({ shape: [8, 8, 3], name: 'image' });
  let x = L.conv2d({ filters: 8, kernelSize: 3, strides: 2, padding: 'same', useBias: false, name: 'stem' }).apply(input) as tf.SymbolicTensor;
  x = L.batchNormalization({ epsilon: 1e-3, momentum: 0.999, name: 'stem_bn' }).apply(x) as tf.SymbolicTensor;
  const stem = L.reLU({ maxValue: 6, name: 'stem_relu' }).apply(x) as tf.SymbolicTensor;
  x = L.depthwiseConv2d({ kernelSize: 3, depthMultiplier: 2, padding: 'same', useBias: true, name: 'dw' }).apply(stem) as tf.SymbolicTensor;
  x = L.batchNormalization({ name: 'dw_bn' }).apply(x) as tf.SymbolicTensor;
  x = L.activation({ activation: 'relu6', name: 'dw_relu' }).apply(x) as tf.SymbolicTensor;
  x = L.conv2d({ filters: 8, kernelSize: 1, useBias: false, name: 'project' }).apply(x) as tf.SymbolicTensor;
  x = L.batchNormalization({ name: 'project_bn' }).apply(x) as tf.SymbolicTensor;
  x = L.add({ name: 'residual' }).apply([stem, x]) as tf.SymbolicTensor;
  const branch = L.conv2d({ filters: 4, kernelSize: 3, dilationRate: 2, padding: 'same', activation: 'relu', name: 'dilated' }).apply(x) as tf.SymbolicTensor;
  x = L.concatenate({ axis: -1, name: 'concat' }).apply([x, branch]) as tf.SymbolicTensor;
  x = L.zeroPadding2d({ padding: [[0, 1], [0, 1]], name: 'down_pad' }).apply(x) as tf.SymbolicTensor;
  x = L.depthwiseConv2d({ kernelSize: 3, strides: 2, padding: 'valid', useBias: false, name: 'down_dw' }).apply(x) as tf.SymbolicTensor;
  x = L.conv2d({ filters: 6, kernelSize: 1, activation: 'relu', name: 'expand' }).apply(x) as tf.SymbolicTensor;
  const backbone = tf.model({ inputs: input, outputs: x, name: 'backbone_model' });
  const features = tf.sequential({ name: 'features', layers: [backbone, L.globalAveragePooling2d({ name: 'gap' })] });
  const head = tf.sequential({
    name: 'head',
    layers: [
      L.dense({ inputShape: [6], units: 8, activation: 'relu', name: 'fc1' }),
      L.dropout({ rate: 0.25, name: 'drop' }),
      L.dense({ units: 3, activation: 'softmax', useBias: false, name: 'fc2' }),
    ],
  });
  return tf.sequential({ name: 'tm_like', layers: [features, head] });
}

function flattenModel(): tf.LayersModel {
  const L = tf.layers;
  return tf.sequential({
    name: 'flatten_model',
    layers: [
      L.conv2d({ inputShape: [6, 5, 2], filters: 4, kernelSize: 3, padding: 'same', activation: 'relu', name: 'conv_a' }),
      L.reshape({ targetShape: [5, 6, 4], name: 'reshape' }),
      L.conv2d({ filters: 3, kernelSize: [2, 3], padding: 'valid', name: 'conv_b' }),
      L.flatten({ name: 'flatten' }),
      L.dense({ units: 5, activation: 'sigmoid', name: 'out' }),
    ],
  });
}

await tf.setBackend('cpu');

const tiny = tinyModel();
setDeterministicWeights(tiny);
const tinySaved = await save(tiny);
const tinyInput = values(BATCH * 8 * 8 * 3, 1001, 1);
const tinyFeatures = (m: tf.LayersModel) => m.layers[0] as tf.LayersModel;
const metadata = { tfjsVersion: tf.version.tfjs, tmVersion: '2.4.5', packageName: '@teachablemachine/image', modelName: 'tiny', labels: ['cat', 'dog', 'bird'], imageSize: 8 };
write(path.join(OUT, 'tiny'), tinySaved, { 'metadata.json': metadata, 'expected.json': await expected(await load(tinySaved), tinyFeatures, [8, 8, 3], tinyInput) });

type Stored = 'uint8' | 'uint16' | 'float16';
const variants: [string, (i: number) => Stored][] = [['tiny-uint8', () => 'uint8'], ['tiny-mixed', (i) => (i % 2 ? 'float16' : 'uint16')]];
for (const [name, dtypeFor] of variants) {
  const q = quantize(tinySaved, dtypeFor);
  write(path.join(OUT, name), q, { 'metadata.json': metadata, 'expected.json': await expected(await load(q), tinyFeatures, [8, 8, 3], tinyInput) });
}

const flat = flattenModel();
setDeterministicWeights(flat);
const flatSaved = await save(flat);
const flatFeatures = (m: tf.LayersModel) => tf.model({ inputs: m.inputs, outputs: m.getLayer('flatten').output as tf.SymbolicTensor });
write(path.join(OUT, 'flatten'), flatSaved, { 'expected.json': await expected(await load(flatSaved), flatFeatures, [6, 5, 2], values(BATCH * 6 * 5 * 2, 2002, 1)) });

console.log(`wrote ${OUT}`);
