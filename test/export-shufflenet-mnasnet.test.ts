// Export of ShuffleNetV2 (its channel shuffle reshapes around the batch) and MNASNet. ONNX: the
// export's own check runs the file at batch sizes 1 and 3 against graft's forward, and here the
// file runs in onnxruntime-node at batch 4 too. PyTorch: the .pth reads back in graft and, where
// PyTorch and torchvision are installed, loads strictly into torchvision's own module (MNASNet's
// load requires the module version the checkpoint records).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import * as ort from 'onnxruntime-node';

import { models, tensor } from '../src/index.ts';
import { exportOnnx, exportPth } from '../src/artifacts/export.ts';
import { readPth } from '../src/formats/pth.ts';
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

const PYTHON = '/usr/bin/python3';
const hasTorchvision = spawnSync(PYTHON, ['-c', 'import torch, torchvision'], { encoding: 'utf8' }).status === 0;
const LOAD_IN_TORCHVISION = `
import sys, torch, torchvision
getattr(torchvision.models, sys.argv[1])(num_classes=3).load_state_dict(torch.load(sys.argv[2]), strict=True)
`;

for (const arch of ['shufflenet_v2_x0_5', 'mnasnet0_5']) {
  test(`${arch} exports a .pth that graft reads back and torchvision loads strictly`, async (t) => {
    const model = (await (models as unknown as Record<string, (o: object) => Promise<Staged>>)[arch]({ numClasses: CLASSES.length })) as Staged;
    const dir = mkdtempSync(path.join(tmpdir(), 'graft-pth-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const file = path.join(dir, `${arch}.pth`);
    await exportPth({ model, manifest: { model: arch, classes: CLASSES, preprocessing: PREPROCESSING } }, file);
    const back = await readPth(file);
    const own = model.stateDict();
    assert.deepEqual([...back.keys()], [...own.keys()]);
    for (const [k, v] of own) assert.deepEqual(back.get(k)!.data, v.data, k);
    if (!hasTorchvision) return t.skip('PyTorch and torchvision are not installed');
    const r = spawnSync(PYTHON, ['-c', LOAD_IN_TORCHVISION, arch, file], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
  });
}
