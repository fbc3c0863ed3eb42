import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

import { readWeightsFile } from '../../src/formats/weights-file.ts';

const root = resolve(import.meta.dirname, '..', '..');

/** The CLI in a child process, run to its end. */
export const graft = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', join(root, 'src', 'cli', 'main.ts'), ...args], { cwd: root, encoding: 'utf8' });

/**
 * `graft train <data> --model <model> --weights none --mode frozen --unfreeze N` for one short
 * epoch into `out` (8 training and 4 validation images), checked, then `graft export` to ONNX
 * (which checks itself against graft) and to PyTorch; returns the exported state dict.
 */
export async function trainAndExport(data: string, out: string, model: string, unfreeze: number): Promise<Awaited<ReturnType<typeof readWeightsFile>>> {
  const r = graft('train', data, '--model', model, '--weights', 'none', '--mode', 'frozen', '--unfreeze', String(unfreeze),
    '--epochs', '1', '--batch-size', '4', '--views', '1', '--no-cache', '--out', out, '--json', '--quiet');
  assert.equal(r.status, 0, r.stderr);
  const result = JSON.parse(r.stdout) as { model: string; epochs: number; train_images: number; val_images: number; best_val_loss: number };
  assert.deepEqual([result.model, result.epochs, result.train_images, result.val_images], [model, 1, 8, 4]);
  assert.ok(Number.isFinite(result.best_val_loss), `validation loss ${result.best_val_loss}`);

  const onnx = graft('export', out, '--format', 'onnx', '--out', join(out, 'model.onnx'), '--json');
  assert.equal(onnx.status, 0, onnx.stderr);
  const pth = graft('export', out, '--format', 'pytorch', '--out', join(out, 'model.pth'), '--json');
  assert.equal(pth.status, 0, pth.stderr);
  assert.ok(existsSync(join(out, 'model.onnx')));
  return readWeightsFile(join(out, 'model.pth'));
}
