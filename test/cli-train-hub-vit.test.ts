// `graft train --model hf:timm/vit_small_patch14_dinov2.lvd142m` (a checkpoint of deterministic
// weights under timm's keys, with timm's config.json, at a 56 x 56 input so a run takes seconds):
// from a Hugging Face cache laid out as huggingface_hub writes it, frozen and with `--unfreeze 2`,
// then the folder exports to ONNX and to PyTorch; and once frozen from a local hub mirror into an
// empty HF_HOME, downloaded by graft train itself.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

import { readWeightsFile } from '../src/formats/weights-file.ts';
import { smallDataset } from './support/small-dataset.ts';
import { writeHubCheckpoint } from './support/hub-cache.ts';
import { MIRROR_COMMIT, startHubMirror } from './support/hub-mirror.ts';

const root = resolve(import.meta.dirname, '..');
const dir = mkdtempSync(join(tmpdir(), 'graft-train-hub-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));
smallDataset(join(dir, 'data'), { train: 4, val: 2 });

const golden = JSON.parse(readFileSync(new URL('./fixtures/timm/vit_small_patch14_dinov2-resample-down.json', import.meta.url), 'utf8')) as
  { repo: string; config: unknown; keys: [string, number[]][] };
const cache = join(dir, 'hub');
const ready = writeHubCheckpoint(golden.repo, golden.config, golden.keys, cache);
/** The CLI in a child process, awaited (not spawnSync: the mirror answers from this process's event loop). */
function graft(args: string[], env: NodeJS.ProcessEnv = { HF_HUB_CACHE: cache }): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'src', 'cli', 'main.ts'), ...args], { cwd: root, env: { ...process.env, ...env } });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
  child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
  return new Promise((ok, fail) => { child.on('error', fail); child.on('close', (status) => ok({ status, stdout, stderr })); });
}
const trainArgs = (out: string, unfreeze: number) => ['train', join(dir, 'data'), '--model', `hf:${golden.repo}`, '--mode', 'frozen', '--unfreeze', String(unfreeze),
  '--epochs', '1', '--batch-size', '4', '--views', '1', '--no-cache', '--out', out, '--json', '--quiet'];

for (const unfreeze of [0, 2]) {
  test(`graft train --model hf:${golden.repo} --unfreeze ${unfreeze} trains from the checkpoint, and the folder exports to ONNX and PyTorch`, async () => {
    await ready;
    const out = join(dir, `hub-${unfreeze}`);
    const r = await graft(trainArgs(out, unfreeze));
    assert.equal(r.status, 0, r.stderr);
    const result = JSON.parse(r.stdout) as { model: string; train_images: number; val_images: number; best_val_loss: number };
    assert.deepEqual([result.model, result.train_images, result.val_images], [`hf:${golden.repo}`, 8, 4]);
    assert.ok(Number.isFinite(result.best_val_loss), `validation loss ${result.best_val_loss}`);
    const manifest = JSON.parse(readFileSync(join(out, 'graft.json'), 'utf8')) as { preprocessing: { cropSize: number; interpolation: string } };
    assert.deepEqual([manifest.preprocessing.cropSize, manifest.preprocessing.interpolation], [56, 'bicubic']);

    for (const [format, file] of [['onnx', 'model.onnx'], ['pytorch', 'model.pth']]) {
      const e = await graft(['export', out, '--format', format, '--out', join(out, file), '--json']);
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

test(`graft train --model hf:${golden.repo} downloads the checkpoint from the hub (a local mirror) into an empty HF_HOME, then trains frozen`, async (t) => {
  const mirror = await startHubMirror(golden.repo, golden.config, golden.keys);
  t.after(() => mirror.close());
  const home = join(dir, 'hf-home');
  const out = join(dir, 'hub-downloaded');
  const r = await graft(trainArgs(out, 0), { HF_HOME: home, HF_HUB_CACHE: '', HF_HUB_OFFLINE: '', HF_ENDPOINT: mirror.endpoint });
  assert.equal(r.status, 0, r.stderr);
  assert.ok(Number.isFinite((JSON.parse(r.stdout) as { best_val_loss: number }).best_val_loss));
  assert.ok(mirror.requests.includes(`GET /lfs/${mirror.weightsSha256}`), mirror.requests.join(', '));
  const snapshot = join(home, 'hub', `models--${golden.repo.replace('/', '--')}`, 'snapshots', MIRROR_COMMIT);
  assert.deepEqual(readdirSync(snapshot).sort(), ['config.json', 'model.safetensors']);
  const sd = await readWeightsFile(join(out, 'model.safetensors'));
  const { deterministicStateDict } = await import('./support/deterministic.ts');
  assert.deepEqual(Array.from(sd.get('class_token')!.data as Float32Array), Array.from(deterministicStateDict(golden.keys).get('cls_token')!.data as Float32Array), 'the served weights');
});
