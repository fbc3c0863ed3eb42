// A feature pass (train/embeddings.ts) over a folder of real images with a small backbone: the
// batch every call runs at, with and without `shrinkSmallPass`, and the same features either way.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { adaptiveAvgPool2d } from '../src/nn/functional.ts';
import { flatten } from '../src/graph/functional.ts';
import { evalPreset } from '../src/data/index.ts';
import { embed } from '../src/train/embeddings.ts';
import type { Tensor } from '../src/graph/tensor.ts';
import { smallDataset } from './support/small-dataset.ts';

const dir = mkdtempSync(join(tmpdir(), 'graft-embed-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));
const root = join(smallDataset(join(dir, 'data'), { train: 3, val: 0 }), 'train');
const samples = ['ants', 'bees'].flatMap((c, target) => readdirSync(join(root, c)).sort().map((f) => ({ path: join(root, c, f), target })));

/** Per-channel means at 2 x 2 (12 features), recording the batch of each call. */
function recordingBackbone(batches: number[]) {
  return (x: Tensor): Tensor => {
    batches.push(x.shape[0]);
    return flatten(adaptiveAvgPool2d(x, [2, 2]), 1);
  };
}

const run = (batches: number[], o: { batchSize: number; shrinkSmallPass?: boolean; views?: number }) =>
  embed(recordingBackbone(batches), samples, { transform: evalPreset({ resizeSize: 40, cropSize: 32 }), views: o.views ?? 1, seed: 0, cache: null, batchSize: o.batchSize, shrinkSmallPass: o.shrinkSmallPass });

test('a pass with fewer images than the batch runs at their number only with shrinkSmallPass, and gives the same features', async () => {
  const padded: number[] = [];
  const shrunk: number[] = [];
  const a = await run(padded, { batchSize: 32 });
  const b = await run(shrunk, { batchSize: 32, shrinkSmallPass: true });
  assert.equal(samples.length, 6);
  assert.deepEqual(padded.filter((n) => n > 1), [32]);
  assert.deepEqual(shrunk.filter((n) => n > 1), [6]);
  assert.equal(a.dim, 12);
  assert.deepEqual(b.views, a.views);
});

test('a pass larger than the batch keeps the batch, the last one padded', async () => {
  const batches: number[] = [];
  const r = await run(batches, { batchSize: 4, shrinkSmallPass: true, views: 2 });
  assert.deepEqual(batches.filter((n) => n > 1), [4, 4, 4]);
  assert.equal(r.views.length, 2);
  assert.ok(r.views.every((v) => v.length === 6 * 12 && v.some((x) => x !== 0)));
});
