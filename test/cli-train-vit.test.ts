// `graft train --model vit_b_16` with random weights (`--weights none`) on a few images of the
// bundled sample data: frozen (a new head on the fixed backbone) and with `--unfreeze 2` (the last
// two encoder layers train too); the model folder loads back and exports to ONNX (checked by the
// exporter against graft at batch sizes 1 and 3) and to a PyTorch checkpoint with torchvision's keys.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

import { readWeightsFile } from '../src/formats/weights-file.ts';
import { smallDataset } from './support/small-dataset.ts';

const root = resolve(import.meta.dirname, '..');
const dir = mkdtempSync(join(tmpdir(), 'graft-train-vit-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));
smallDataset(join(dir, 'data'), { train: 4, val: 2 });

const graft = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', join(root, 'src', 'cli', 'main.ts'), ...args], { cwd: root, encoding: 'utf8' });

for (const unfreeze of [0, 2]) {
  test(`graft train --model vit_b_16 --weights none --unfreeze ${unfreeze} trains, and the folder exports to ONNX and PyTorch`, async () => {
    const out = join(dir, `vit-${unfreeze}`);
    const r = graft('train', join(dir, 'data'), '--model', 'vit_b_16', '--weights', 'none', '--mode', 'frozen', '--unfreeze', String(unfreeze),
      '--epochs', '1', '--batch-size', '4', '--views', '1', '--no-cache', '--out', out, '--json', '--quiet');
    assert.equal(r.status, 0, r.stderr);
    const result = JSON.parse(r.stdout) as { model: string; epochs: number; train_images: number; val_images: number; best_val_loss: number };
    assert.deepEqual([result.model, result.epochs, result.train_images, result.val_images], ['vit_b_16', 1, 8, 4]);
    assert.ok(Number.isFinite(result.best_val_loss), `validation loss ${result.best_val_loss}`);

    const onnx = graft('export', out, '--format', 'onnx', '--out', join(out, 'model.onnx'), '--json');
    assert.equal(onnx.status, 0, onnx.stderr);
    const pth = graft('export', out, '--format', 'pytorch', '--out', join(out, 'model.pth'), '--json');
    assert.equal(pth.status, 0, pth.stderr);
    assert.ok(existsSync(join(out, 'model.onnx')));
    const sd = await readWeightsFile(join(out, 'model.pth'));
    assert.deepEqual([...sd.get('heads.head.weight')!.shape], [2, 768]);
    assert.deepEqual([...sd.get('encoder.layers.encoder_layer_11.self_attention.in_proj_weight')!.shape], [2304, 768]);
    assert.deepEqual([...sd.get('encoder.pos_embedding')!.shape], [1, 197, 768]);
  });
}
