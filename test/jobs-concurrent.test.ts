// Jobs share no state: two training jobs run at once in one process end exactly where the same two
// runs end one after the other. Any generator, cache or session shared on the way would let one
// run's draws or weights leak into the other, and the bytes would differ.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jobs, type TrainConfig } from '../src/index.ts';
import { INT8_BACKBONE, smallDataset } from './support/small-dataset.ts';

const dir = mkdtempSync(join(tmpdir(), 'graft-jobs-concurrent-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));
const data = smallDataset(join(dir, 'data'), { train: 8, val: 4 });

// One run trains a head with dropout on cached features of augmented views; the other trains the
// last backbone block on augmented images. Shuffling, augmentation, dropout masks and the new
// heads' initialization all draw from the jobs' generators, step after step, while the other job
// runs between those steps.
const common: Partial<TrainConfig> = { epochs: 2, batchSize: 4, augment: 'light', featureCache: false };
const runs: Record<string, Partial<TrainConfig>> = {
  features: { ...common, model: 'mobilenet_v3_small', weights: null, views: 2, seed: 11 },
  images: { ...common, model: INT8_BACKBONE, unfreeze: 1, seed: 12 },
};
const weights = (out: string) => readFileSync(join(out, 'model.safetensors'));

test('two train() jobs at once end with the same weights as the same jobs run one after the other', { timeout: 300_000 }, async () => {
  const together = await Promise.all(Object.entries(runs).map(([name, cfg]) => jobs.train(data, cfg, { out: join(dir, `together-${name}`) })));
  const apart = [];
  for (const [name, cfg] of Object.entries(runs)) apart.push(await jobs.train(data, cfg, { out: join(dir, `apart-${name}`) }));
  for (const [i, name] of Object.keys(runs).entries()) {
    assert.ok(weights(together[i].out).equals(weights(apart[i].out)), `${name}: weights differ between the concurrent and the sequential run`);
    assert.deepEqual(together[i].result.history.map((h) => h.train_loss), apart[i].result.history.map((h) => h.train_loss), name);
  }
  assert.ok(!weights(apart[0].out).equals(weights(apart[1].out)));
});
