// MaxViT exports to ONNX for any batch size: the small configuration of scripts/make_zoo_goldens.py
// with a new 3-class head, deterministic weights; the exporter's own check runs the file at batch
// sizes 1 and 3 against graft (the window and grid partitions reshape through six axes, the batch
// kept first), and here onnxruntime-node runs it at batch 2 against graft's forward too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';

import { tensor } from '../src/index.ts';
import { exportOnnx } from '../src/artifacts/export.ts';
import { skipInit } from '../src/nn/init.ts';
import { deterministicInput, deterministicStateDict } from './support/deterministic.ts';
import { loadZooGolden } from './support/zoo-golden.ts';
import { maxVitFromTorchArgs, type TorchMaxVitArgs } from './support/maxvit.ts';
import { maxAbs, maxAbsDiff } from './fixtures/export/trained-model.ts';

test('the small MaxVit with a new head exports to ONNX that runs at batch sizes 1, 2 and 3 as graft does', async () => {
  const args = (loadZooGolden('maxvit-small') as ReturnType<typeof loadZooGolden> & { build_args: TorchMaxVitArgs }).build_args;
  const side = args.input_size[0];
  const m = skipInit(() => maxVitFromTorchArgs(args));
  m.resetClassifier(3);
  m.loadStateDict(deterministicStateDict([...m.stateDict()].map(([k, v]) => [k, [...v.shape]])));
  m.eval();
  const preprocessing = { resizeSize: side, cropSize: side, interpolation: 'bicubic' as const, mean: [0.485, 0.456, 0.406] as [number, number, number], std: [0.229, 0.224, 0.225] as [number, number, number] };
  const bytes = await exportOnnx({ model: m, manifest: { model: 'maxvit-small', classes: ['ant', 'bee', 'wasp'], preprocessing } });
  const session = await ort.InferenceSession.create(bytes);
  const shape = [2, 3, side, side];
  const x = deterministicInput(shape);
  const { logits } = await session.run({ input: new ort.Tensor('float32', x, shape) });
  assert.deepEqual(logits.dims, [2, 3]);
  const want = await m.forward(tensor(x, shape)).data();
  const got = logits.data as Float32Array;
  assert.ok(maxAbsDiff(got, want) <= 1e-5 * maxAbs(want), `ONNX vs graft: ${maxAbsDiff(got, want)} of ${maxAbs(want)}`);
});
