/**
 * ONNX models whose ops ask for more memory than their bytes (made by test/support/hostile-onnx.ts)
 * are refused before ONNX Runtime runs them, naming the node, quickly and in bounded memory.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { importOnnx } from '../src/formats/onnx-import.ts';
import { inferShapes } from '../src/formats/onnx-bounds.ts';
import { loadOnnxBackbone } from '../src/models/onnx-backbone.ts';
import { tensor } from '../src/graph/tensor.ts';
import { benignSizedOps, dataSizedFill, hostileOnnx } from './support/hostile-onnx.ts';
import { readInChild } from './support/read-in-child.ts';

/** A child that loads onnxruntime-node stays near 100 MiB; each file asks for at least 1 GiB. */
const MAX_RSS_MIB = 300;

async function tempDir(t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'graft-onnx-bounds-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

for (const [op, { node, bytes }] of Object.entries(hostileOnnx)) {
  test(`${op} asking for 1 GiB is refused before the graph runs, naming the node`, async (t) => {
    const file = join(await tempDir(t), `${op}.onnx`);
    await writeFile(file, bytes());
    const result = readInChild('onnx', file);
    assert.match(result.error ?? '', new RegExp(`^Cannot import ONNX model ".*${op}\\.onnx": node "${node}" \\(${op}\\) would output shape \\[[\\d,]+\\] \\(268435456 values per example\\), more than the 134217728 graft allows one tensor$`));
    assert.ok(result.maxRssMiB < MAX_RSS_MIB, `peak RSS ${result.maxRssMiB} MiB`);
    assert.ok(result.ms < 5000, `took ${result.ms} ms`);
  });
}

test('a ConstantOfShape sized by the image values cannot be bounded, and is refused', async (t) => {
  const file = join(await tempDir(t), 'data-sized.onnx');
  await writeFile(file, dataSizedFill());
  await assert.rejects(importOnnx(file), {
    message: `Cannot import ONNX model "${file}": node "fill_by_data" (ConstantOfShape) takes its output size from values graft cannot work out before running the graph, so it cannot be bounded`,
  });
});

test('Expand and Tile sized from the tensor\'s own shape import and run', async (t) => {
  const file = join(await tempDir(t), 'benign.onnx');
  await writeFile(file, benignSizedOps());
  const backbone = await loadOnnxBackbone(file);
  assert.deepEqual(backbone.imported.featureShape, [-1, 4]);
  const features = await backbone.features(tensor(new Float32Array(2 * 3 * 8 * 8).fill(0.25), [2, 3, 8, 8])).floats();
  assert.equal(features.length, 8);
});

test('the bounds pass follows every shape of the bundled MobileNetV2 and the PyTorch-exported convnet, as ONNX Runtime computes them', async () => {
  const here = fileURLToPath(new URL('.', import.meta.url));
  for (const file of [join(here, '..', 'assets', 'backbones', 'mobilenetv2-12-int8.onnx'), join(here, 'fixtures', 'onnx', 'tiny_convnet_op12.onnx')]) {
    const g = await importOnnx(file);
    const shapes = inferShapes({ file, input: g.cut.input.name, inputShape: g.inputShape, nodes: g.graph.nodes, initializers: g.graph.initializers });
    assert.deepEqual([...shapes].filter(([, s]) => !s).map(([k]) => k), [], `${file}: tensors whose shape is not followed`);
    assert.deepEqual(shapes.get(g.cut.output), [1, ...g.featureShape.slice(1)], file);
  }
});
