// `graft export` for every convolutional family, on one model folder per family (its smallest
// builder, a new 3-class head, deterministic weights, its smallest input). ONNX: the command's
// own check runs the file at batch sizes 1 and 3 against graft; here onnxruntime-node runs it at
// batch 2 against the folder's model too. PyTorch: the .pth has torchvision's key names (the zoo
// golden's, with the new head's shapes) and loads back into a fresh graft model with identical
// tensors. Whether torchvision itself loads these files is scripts/check_pth_export.py's part.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import * as ort from 'onnxruntime-node';

import { tensor } from '../src/graph/tensor.ts';
import { createClassifier } from '../src/models/classifier.ts';
import { loadModelFolder } from '../src/artifacts/model-folder.ts';
import { readPth } from '../src/formats/pth.ts';
import { deterministicInput } from './support/deterministic.ts';
import { EXPORT_FAMILIES, FAMILY_CLASSES, familyModelFolder } from './support/export-families.ts';
import { loadZooGolden } from './support/zoo-golden.ts';
import { maxAbs, maxAbsDiff } from './fixtures/export/trained-model.ts';

const root = path.resolve(import.meta.dirname, '..');
const dir = mkdtempSync(path.join(tmpdir(), 'graft-export-families-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

function graftExport(folder: string, format: string, out: string): void {
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(root, 'src', 'cli', 'main.ts'), 'export', folder, '--format', format, '--out', out, '--json'], { cwd: root, encoding: 'utf8' });
  assert.equal(r.status, 0, `graft export --format ${format}: ${r.stderr}`);
  assert.equal((JSON.parse(r.stdout) as { file: string }).file, out);
}

for (const [arch, side] of Object.entries(EXPORT_FAMILIES)) {
  test(`${arch}: graft export --format onnx equals graft, --format pytorch has torchvision's keys and loads back unchanged`, async () => {
    const folder = await familyModelFolder(dir, arch);
    const { model } = await loadModelFolder(folder);

    const onnxFile = path.join(dir, `${arch}.onnx`);
    graftExport(folder, 'onnx', onnxFile);
    const shape = [2, 3, side, side];
    const input = deterministicInput(shape, 5);
    const session = await ort.InferenceSession.create(onnxFile);
    try {
      const out = (await session.run({ input: new ort.Tensor('float32', input, shape) })).logits;
      assert.deepEqual(out.dims, [2, FAMILY_CLASSES.length]);
      const own = await model.forward(tensor(input, shape)).floats();
      const diff = maxAbsDiff(out.data as Float32Array, own);
      assert.ok(diff <= 1e-5 * Math.max(1, maxAbs(own)), `${arch}: exported and graft logits differ by ${diff} (logits up to ${maxAbs(own)})`);
    } finally {
      await session.release();
    }

    const pthFile = path.join(dir, `${arch}.pth`);
    graftExport(folder, 'pytorch', pthFile);
    const back = await readPth(pthFile);
    // torchvision's names and order; only the new head's shapes differ from its 1000-class builder.
    const theirs = loadZooGolden(arch).keys;
    assert.deepEqual([...back.keys()], theirs.map(([k]) => k), `${arch}: key names`);
    const own = model.stateDict();
    for (const [k, want] of theirs) {
      const got = [...back.get(k)!.shape];
      if (want[0] === 1000) assert.deepEqual(got, [FAMILY_CLASSES.length, ...want.slice(1)], `${arch}: head ${k}`);
      else assert.deepEqual(got, want, `${arch}: shape of ${k}`);
    }
    const fresh = await createClassifier(arch, { weights: null, numClasses: FAMILY_CLASSES.length });
    fresh.loadStateDict(back);
    for (const [k, v] of fresh.stateDict()) assert.deepEqual(v.data, own.get(k)!.data, `${arch}: ${k} after the round trip`);
  });
}
