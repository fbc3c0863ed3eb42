// ONNX export of ShuffleNetV2 (its channel shuffle reshapes around the batch) and MNASNet: the
// export's own check runs the file at batch sizes 1 and 3 against graft's forward, and here the
// file runs in onnxruntime-node at batch 4 too.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as ort from 'onnxruntime-node';

import { models, tensor } from '../src/index.ts';
import { exportOnnx } from '../src/artifacts/export.ts';
import type { Staged } from '../src/models/stages.ts';
import { deterministicInput, deterministicStateDict } from './support/deterministic.ts';
import { PREPROCESSING, maxAbs, maxAbsDiff } from './fixtures/export/trained-model.ts';

const CLASSES = ['ant', 'bee', 'wasp'];
const CROP = 32;

for (const arch of ['shufflenet_v2_x0_5', 'mnasnet0_5']) {
  test(`${arch} exports to ONNX that runs at any batch size and equals graft`, async () => {
    const model = (await (models as unknown as Record<string, (o: object) => Promise<Staged>>)[arch]({ numClasses: CLASSES.length })) as Staged;
    model.loadStateDict(deterministicStateDict([...model.stateDict()].map(([k, v]) => [k, [...v.shape]])));
    model.eval();
    const manifest = { model: arch, classes: CLASSES, preprocessing: { ...PREPROCESSING, resizeSize: CROP, cropSize: CROP } };
    const bytes = await exportOnnx({ model, manifest });
    const shape = [4, 3, CROP, CROP];
    const input = deterministicInput(shape, 4);
    const session = await ort.InferenceSession.create(bytes);
    try {
      const out = (await session.run({ input: new ort.Tensor('float32', input, shape) })).logits;
      assert.deepEqual(out.dims, [4, CLASSES.length]);
      const own = await model.forward(tensor(input, shape)).floats();
      const diff = maxAbsDiff(out.data as Float32Array, own);
      assert.ok(diff <= 1e-5 * Math.max(1, maxAbs(own)), `${arch}: exported and graft logits differ by ${diff}`);
    } finally {
      await session.release();
    }
  });
}
