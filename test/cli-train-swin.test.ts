// `graft train --model swin_t` with random weights (`--weights none`) on a few images of the
// bundled sample data, frozen but for the head and, with `--unfreeze 2`, the last two blocks and
// the final norm (stochastic depth in train mode, gradients through the shifted windows; the
// frozen head-only path is the trainer's own, as for every zoo model, and Swin's stages are
// checked in models-stages-swin); the model folder loads back and exports to ONNX
// (checked by the exporter against graft at batch sizes 1 and 3) and to a PyTorch checkpoint with
// torchvision's keys, the attention's index buffers included.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

import { readWeightsFile } from '../src/formats/weights-file.ts';
import { smallDataset } from './support/small-dataset.ts';

const root = resolve(import.meta.dirname, '..');
const dir = mkdtempSync(join(tmpdir(), 'graft-train-swin-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));
smallDataset(join(dir, 'data'), { train: 4, val: 2 });

const graft = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', join(root, 'src', 'cli', 'main.ts'), ...args], { cwd: root, encoding: 'utf8' });

test('graft train --model swin_t --weights none --unfreeze 2 trains, and the folder exports to ONNX and PyTorch', async () => {
  const out = join(dir, 'swin');
  const r = graft('train', join(dir, 'data'), '--model', 'swin_t', '--weights', 'none', '--mode', 'frozen', '--unfreeze', '2',
    '--epochs', '1', '--batch-size', '4', '--views', '1', '--no-cache', '--out', out, '--json', '--quiet');
  assert.equal(r.status, 0, r.stderr);
  const result = JSON.parse(r.stdout) as { model: string; epochs: number; train_images: number; val_images: number; best_val_loss: number };
  assert.deepEqual([result.model, result.epochs, result.train_images, result.val_images], ['swin_t', 1, 8, 4]);
  assert.ok(Number.isFinite(result.best_val_loss), `validation loss ${result.best_val_loss}`);

  const onnx = graft('export', out, '--format', 'onnx', '--out', join(out, 'model.onnx'), '--json');
  assert.equal(onnx.status, 0, onnx.stderr);
  const pth = graft('export', out, '--format', 'pytorch', '--out', join(out, 'model.pth'), '--json');
  assert.equal(pth.status, 0, pth.stderr);
  assert.ok(existsSync(join(out, 'model.onnx')));
  const sd = await readWeightsFile(join(out, 'model.pth'));
  assert.deepEqual([...sd.get('head.weight')!.shape], [2, 768]);
  assert.deepEqual([...sd.get('features.7.1.attn.qkv.weight')!.shape], [2304, 768]);
  const index = sd.get('features.1.0.attn.relative_position_index')!;
  assert.deepEqual([index.dtype, index.shape], ['int64', [2401]]);
});
