// `graft train` with the new families, random weights (`--weights none`): frozen (new head on a
// fixed backbone) and finetune (everything trains) both finish and write a model folder. A few
// images of the bundled sample data keep each run to seconds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const sample = join(root, 'assets', 'sample-data', 'hymenoptera-mini');
const dir = mkdtempSync(join(tmpdir(), 'graft-train-families-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

/** The first `n` images of each class of one split of the sample data. */
function subset(split: string, n: number): void {
  for (const cls of readdirSync(join(sample, split))) {
    mkdirSync(join(dir, 'data', split, cls), { recursive: true });
    for (const f of readdirSync(join(sample, split, cls)).sort().slice(0, n)) copyFileSync(join(sample, split, cls, f), join(dir, 'data', split, cls, f));
  }
}
subset('train', 4);
subset('val', 2);

for (const arch of ['efficientnet_b0', 'convnext_tiny']) {
  for (const mode of ['frozen', 'finetune']) {
    test(`graft train --model ${arch} --weights none --mode ${mode} finishes on the sample data`, () => {
      const out = join(dir, `${arch}-${mode}`);
      const r = spawnSync(process.execPath, [
        '--import', 'tsx', join(root, 'src', 'cli', 'main.ts'), 'train', join(dir, 'data'), '--model', arch, '--weights', 'none', '--mode', mode,
        '--epochs', '1', '--batch-size', '4', '--views', '1', '--no-cache', '--out', out, '--json', '--quiet',
      ], { cwd: root, encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      const result = JSON.parse(r.stdout) as { model: string; mode: string; epochs: number; train_images: number; val_images: number; best_val_loss: number };
      assert.deepEqual([result.model, result.mode, result.epochs, result.train_images, result.val_images], [arch, mode, 1, 8, 4]);
      assert.ok(Number.isFinite(result.best_val_loss), `validation loss ${result.best_val_loss}`);
      for (const f of ['model.safetensors', 'graft.json', 'labels.txt']) assert.ok(existsSync(join(out, f)), f);
    });
  }
}
