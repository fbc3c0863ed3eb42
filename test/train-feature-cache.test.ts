import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FeatureCache } from '../src/train/feature-cache.ts';

const DIGEST = 'ab'.repeat(32);

async function filesUnder(dir: string): Promise<string[]> {
  return (await readdir(dir, { recursive: true, withFileTypes: true })).filter((e) => e.isFile()).map((e) => e.name);
}

test('entries round-trip, land by rename with no temporary file left, and a damaged one reads as a miss and is removed', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'graft-cache-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  const cache = new FeatureCache(root, { backbone: 'test' });
  const features = Float32Array.from([1, -2, 3.5, 0]);
  await cache.put(DIGEST, 0, features);
  await cache.put(DIGEST, 1, features.map((v) => v * 2));
  assert.deepEqual(await cache.get(DIGEST, 0, 4), features);
  assert.deepEqual(await cache.get(DIGEST, 1, 4), Float32Array.from([2, -4, 7, 0]));
  assert.equal(await cache.get(DIGEST, 2, 4), null, 'a view never stored');
  assert.equal(await cache.get(DIGEST, 0, 5), null, 'a length that does not match');
  assert.deepEqual((await filesUnder(cache.dir)).sort(), [`${DIGEST.slice(2, 40)}-1.f32`]);

  await cache.put(DIGEST, 0, features);
  const file = join(cache.dir, DIGEST.slice(0, 2), `${DIGEST.slice(2, 40)}-0.f32`);
  const bytes = await readFile(file);
  bytes[bytes.length - 1] ^= 0xff;
  await writeFile(file, bytes);
  assert.equal(await cache.get(DIGEST, 0, 4), null);
  assert.deepEqual(await filesUnder(cache.dir), [`${DIGEST.slice(2, 40)}-1.f32`]);
});
