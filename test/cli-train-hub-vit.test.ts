// `graft train --model hf:timm/vit_small_patch14_dinov2.lvd142m` from a Hugging Face cache laid out
// as huggingface_hub writes it (a checkpoint of deterministic weights under timm's keys, with
// timm's config.json, at a 56 x 56 input so a run takes seconds): frozen and with `--unfreeze 2`,
// then the folder exports to ONNX (checked against graft at batch sizes 1 and 3) and to PyTorch.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

import { readWeightsFile } from '../src/formats/weights-file.ts';
import { writeHubCheckpoint } from './support/hub-cache.ts';

const root = resolve(import.meta.dirname, '..');
const sample = join(root, 'assets', 'sample-data', 'hymenoptera-mini');
const dir = mkdtempSync(join(tmpdir(), 'graft-train-hub-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

for (const split of ['train', 'val']) {
  for (const cls of readdirSync(join(sample, split))) {
    mkdirSync(join(dir, 'data', split, cls), { recursive: true });
    for (const f of readdirSync(join(sample, split, cls)).sort().slice(0, split === 'train' ? 4 : 2)) {
      copyFileSync(join(sample, split, cls, f), join(dir, 'data', split, cls, f));
    }
  }
}

const golden = JSON.parse(readFileSync(new URL('./fixtures/timm/vit_small_patch14_dinov2-resample-down.json', import.meta.url), 'utf8')) as
  { repo: string; config: unknown; keys: [string, number[]][] };
const cache = join(dir, 'hub');
const ready = writeHubCheckpoint(golden.repo, golden.config, golden.keys, cache);
const graft = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', join(root, 'src', 'cli', 'main.ts'), ...args],
  { cwd: root, encoding: 'utf8', env: { ...process.env, HF_HUB_CACHE: cache } });

for (const unfreeze of [0, 2]) {
  test(`graft train --model hf:${golden.repo} --unfreeze ${unfreeze} trains from the checkpoint, and the folder exports to ONNX and PyTorch`, async () => {
    await ready;
    const out = join(dir, `hub-${unfreeze}`);
    const r = graft('train', join(dir, 'data'), '--model', `hf:${golden.repo}`, '--mode', 'frozen', '--unfreeze', String(unfreeze),
      '--epochs', '1', '--batch-size', '4', '--views', '1', '--no-cache', '--out', out, '--json', '--quiet');
    assert.equal(r.status, 0, r.stderr);
    const result = JSON.parse(r.stdout) as { model: string; train_images: number; val_images: number; best_val_loss: number };
    assert.deepEqual([result.model, result.train_images, result.val_images], [`hf:${golden.repo}`, 8, 4]);
    assert.ok(Number.isFinite(result.best_val_loss), `validation loss ${result.best_val_loss}`);
    const manifest = JSON.parse(readFileSync(join(out, 'graft.json'), 'utf8')) as { preprocessing: { cropSize: number; interpolation: string } };
    assert.deepEqual([manifest.preprocessing.cropSize, manifest.preprocessing.interpolation], [56, 'bicubic']);

    for (const [format, file] of [['onnx', 'model.onnx'], ['pytorch', 'model.pth']]) {
      const e = graft('export', out, '--format', format, '--out', join(out, file), '--json');
      assert.equal(e.status, 0, e.stderr);
      assert.ok(existsSync(join(out, file)), file);
    }
    const sd = await readWeightsFile(join(out, 'model.pth'));
    assert.deepEqual([...sd.get('heads.head.weight')!.shape], [2, 384]);
    assert.deepEqual([...sd.get('encoder.layers.encoder_layer_11.layer_scale_2')!.shape], [384]);
    // The frozen stem kept the checkpoint's class token: timm's cls_token, deterministic weights.
    const cls = (sd.get('class_token')!.data as Float32Array);
    const { deterministicStateDict } = await import('./support/deterministic.ts');
    assert.deepEqual(Array.from(cls), Array.from(deterministicStateDict(golden.keys).get('cls_token')!.data as Float32Array));
  });
}
