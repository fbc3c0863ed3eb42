// `graft predict --model tfjs:<model.json>` on a Teachable Machine export keeps the export's head:
// it names the classes with metadata.json's labels (not ImageNet's) and prepares images as
// Teachable Machine does (the center square, resized to metadata's imageSize, x / 127 - 1). The
// reference is @tensorflow/tfjs running the same export on pixels prepared that way. The exports
// are the TF.js-made fixture (test/fixtures/tfjs/tiny, 8x8 input, three labels) and the real
// Teachable Machine export in ../shared when it is present; images are PNGs written here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import type * as TF from '@tensorflow/tfjs';

import { loadModel } from '../src/jobs/load-model.ts';
import { predict } from '../src/jobs/predict.ts';

const root = path.resolve(import.meta.dirname, '..');
const TINY = path.join(root, 'test', 'fixtures', 'tfjs', 'tiny');
const TM_DIR = path.resolve(root, '..', 'shared', 'weights', 'teachable-machine-mobilenetv2-0.35');

async function tfjs(): Promise<typeof TF> {
  // TF.js greets Node users on stderr with advice to install its native backend; the CPU one is wanted here.
  const warn = console.warn;
  console.warn = () => {};
  const tf = await import('@tensorflow/tfjs');
  await tf.setBackend('cpu').finally(() => { console.warn = warn; });
  return tf;
}

async function reference(tf: typeof TF, dir: string): Promise<TF.LayersModel> {
  const json = JSON.parse(readFileSync(path.join(dir, 'model.json'), 'utf8'));
  const bin = readFileSync(path.join(dir, 'weights.bin'));
  return tf.loadLayersModel({
    load: async () => ({
      modelTopology: json.modelTopology,
      weightSpecs: json.weightsManifest.flatMap((g: { weights: unknown[] }) => g.weights),
      weightData: bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength),
    }),
  });
}

/** An RGB image with smooth, reproducible content, `height` x `width`. */
function pixels(width: number, height: number, seed: number): Uint8Array {
  const out = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) for (let c = 0; c < 3; c++) {
    out[(y * width + x) * 3 + c] = Math.round(127.5 + 127.5 * Math.sin(0.7 * x + 1.3 * y + 2.1 * c + seed));
  }
  return out;
}

/**
 * Teachable Machine's preparation of an image already `size` high: the center square
 * (@teachablemachine/image's cropTensor), then x / 127 - 1, as NHWC.
 */
function teachableMachineInput(rgb: Uint8Array, width: number, size: number): Float32Array {
  const left = (width - size) / 2;
  const out = new Float32Array(size * size * 3);
  for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) for (let c = 0; c < 3; c++) {
    out[(y * size + x) * 3 + c] = rgb[(y * width + x + left) * 3 + c] / 127 - 1;
  }
  return out;
}

async function writePng(file: string, rgb: Uint8Array, width: number, height: number): Promise<string> {
  await sharp(Buffer.from(rgb), { raw: { width, height, channels: 3 } }).png().toFile(file);
  return file;
}

/**
 * Images `size` high (so no resampling blurs the comparison), one square and one wider, whose
 * center square is what Teachable Machine feeds the model.
 */
async function compare(t: { after: (fn: () => void) => void }, dir: string, size: number, tolerance: number): Promise<{ labels: string[]; maxDiff: number }> {
  const tmp = mkdtempSync(path.join(tmpdir(), 'graft-tfjs-predict-'));
  t.after(() => rmSync(tmp, { recursive: true, force: true }));
  const shapes = [{ width: size, seed: 0 }, { width: size + 4, seed: 1 }];
  const files: string[] = [];
  const inputs: Float32Array[] = [];
  for (const [i, s] of shapes.entries()) {
    const rgb = pixels(s.width, size, s.seed);
    files.push(await writePng(path.join(tmp, `image-${i}.png`), rgb, s.width, size));
    inputs.push(teachableMachineInput(rgb, s.width, size));
  }
  const tf = await tfjs();
  const model = await reference(tf, dir);
  const batch = new Float32Array(inputs.length * inputs[0].length);
  inputs.forEach((x, i) => batch.set(x, i * x.length));
  const expected = await (model.predict(tf.tensor4d(batch, [inputs.length, size, size, 3])) as TF.Tensor).data();

  const loaded = await loadModel(`tfjs:${path.join(dir, 'model.json')}`);
  const labels = JSON.parse(readFileSync(path.join(dir, 'metadata.json'), 'utf8')).labels as string[];
  assert.deepEqual(loaded.labels, labels);
  assert.equal(loaded.outputs, 'probabilities');
  const results = await predict(loaded, files, { topk: labels.length });
  let maxDiff = 0;
  for (const [i, r] of results.entries()) {
    assert.equal(r.error, undefined);
    assert.equal(r.top.length, labels.length);
    for (const top of r.top) {
      assert.equal(top.label, labels[top.index], `image ${i}: class ${top.index} is named by metadata.json`);
      maxDiff = Math.max(maxDiff, Math.abs(top.prob - expected[i * labels.length + top.index]));
    }
  }
  assert.ok(maxDiff <= tolerance, `probabilities differ from TF.js's by ${maxDiff}`);
  return { labels, maxDiff };
}

test('a Teachable-Machine-shaped export predicts with its labels and its preprocessing, as TF.js does', async (t) => {
  const { maxDiff } = await compare(t, TINY, 8, 1e-5);
  console.log(`# tiny export: graft vs TF.js probabilities, max |diff| ${maxDiff.toExponential(2)}`);
});

test('graft predict prints the export\'s labels', async (t) => {
  const tmp = mkdtempSync(path.join(tmpdir(), 'graft-tfjs-cli-'));
  t.after(() => rmSync(tmp, { recursive: true, force: true }));
  const image = await writePng(path.join(tmp, 'x.png'), pixels(8, 8, 3), 8, 8);
  const out = execFileSync(process.execPath, ['--import', 'tsx', path.join(root, 'src', 'cli', 'main.ts'), 'predict', image, '--model', `tfjs:${path.join(TINY, 'model.json')}`, '--json'], { cwd: root, encoding: 'utf8' });
  const [result] = JSON.parse(out) as { top: { label: string; index: number }[] }[];
  assert.deepEqual(result.top.map((x) => x.label).sort(), ['bird', 'cat', 'dog']);
  for (const x of result.top) assert.equal(x.label, ['cat', 'dog', 'bird'][x.index]);
});

test('the real Teachable Machine export predicts with its labels, as TF.js does', { skip: !existsSync(path.join(TM_DIR, 'model.json')) && 'the shared Teachable Machine export is not present' }, async (t) => {
  const { labels, maxDiff } = await compare(t, TM_DIR, 224, 1e-4);
  assert.equal(labels.length, 5);
  console.log(`# Teachable Machine export: graft vs TF.js probabilities, max |diff| ${maxDiff.toExponential(2)}`);
});
