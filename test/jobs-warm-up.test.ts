// `graft worker --model` gets ready before it takes a shard: the backbone loaded, its session
// compiled, its decoding threads started. This test checks that the shards it then runs compile
// nothing more, for a seed other than the warm-up's, and write the bytes a cold process writes,
// which probes each shard's feature width on its first image where a warmed worker knows it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { embedFeatures } from '../src/jobs/embed.ts';
import { ShardModels } from '../src/jobs/shards/shard-models.ts';
import { inProcessQueue } from '../src/jobs/shards/shard-queue.ts';
import { warmForFeatures, warmUp } from '../src/jobs/shards/warm-up.ts';
import { train } from '../src/jobs/train.ts';
import { predictBatch } from '../src/jobs/predict-batch.ts';
import { Runtime } from '../src/runtime/runtime.ts';
import { colorDataset } from './support/color-dataset.ts';
import { INT8_BACKBONE } from './support/small-dataset.ts';

test('a worker warmed for a backbone runs its feature shards on the session compiled at warm-up and writes the same bytes as a cold process', { timeout: 300_000 }, async () => {
  const tmp = mkdtempSync(join(tmpdir(), 'graft-warm-'));
  const cold = new Runtime();
  const rt = new Runtime({ executor: 'workers' });
  const models = new ShardModels(rt);
  try {
    const data = await colorDataset(join(tmp, 'data'), { train: 12, val: 4 });
    // Files that do not decode, first in their folders: a cold probe passes over them, a warm pass skips them in its batches.
    for (const cls of ['cool', 'warm']) writeFileSync(join(data, 'train', cls, `${cls}-0000-broken.png`), 'not a png');
    const job = { model: INT8_BACKBONE, augment: 'none' as const, seed: 3, shardSize: 8 };
    const reference = await embedFeatures(data, { ...job, out: join(tmp, 'cold'), runtime: cold });
    assert.ok(reference.complete);

    await warmForFeatures(models, INT8_BACKBONE);
    assert.equal(rt.sessionCount, 1, 'the warm-up compiled the backbone session');
    assert.equal(rt.workerThreads, 1, 'and started the session thread');
    const warmed = await embedFeatures(data, { ...job, out: join(tmp, 'warm'), runtime: rt, queue: inProcessQueue(models) });
    assert.ok(warmed.complete);
    assert.equal(rt.sessionCount, 1, 'the shards (seed 3, the warm-up used the default 0) compiled no other session');

    const shards = readdirSync(join(tmp, 'cold', 'shards')).sort();
    assert.equal(shards.length, 5);
    const headers = shards.map((s) => readFileSync(join(tmp, 'cold', 'shards', s)).toString('latin1')).join('');
    assert.equal(headers.match(/-broken\.png/g)?.length, 2, 'both broken files are named as skipped in the shards');
    assert.deepEqual(readdirSync(join(tmp, 'warm', 'shards')).sort(), shards);
    for (const s of shards) assert.ok(readFileSync(join(tmp, 'warm', 'shards', s)).equals(readFileSync(join(tmp, 'cold', 'shards', s))), `${s} differs`);
  } finally {
    await models.close();
    await rt.close();
    await cold.close();
    rmSync(tmp, { recursive: true, force: true });
  }
});

test('a worker warmed for a trained model folder runs its prediction shards on the session compiled at warm-up, with the same results', { timeout: 300_000 }, async () => {
  const tmp = mkdtempSync(join(tmpdir(), 'graft-warm-predict-'));
  const cold = new Runtime();
  const rt = new Runtime({ executor: 'workers' });
  const models = new ShardModels(rt);
  try {
    const data = await colorDataset(join(tmp, 'data'), { train: 12, val: 4 });
    const model = join(tmp, 'model');
    await train(data, { model: INT8_BACKBONE, augment: 'none', epochs: 1, featureCache: false }, { out: model, runtime: cold });
    // Shards of 16, the batch the warm-up compiles for (a smaller shard runs a batch of its size).
    const job = { model, shardSize: 16, topk: 2 };
    await predictBatch(data, { ...job, out: join(tmp, 'cold.jsonl'), runtime: cold });

    await warmUp(models, model);
    const compiled = rt.sessionCount;
    assert.ok(compiled >= 1, 'the warm-up compiled the classifier');
    const warmed = await predictBatch(data, { ...job, out: join(tmp, 'warm.jsonl'), runtime: rt, queue: inProcessQueue(models) });
    assert.ok(warmed.complete);
    assert.equal(warmed.ran, 2);
    assert.equal(rt.sessionCount, compiled, 'the shards compiled no other session');
    assert.ok(readFileSync(join(tmp, 'warm.jsonl')).equals(readFileSync(join(tmp, 'cold.jsonl'))));
  } finally {
    await models.close();
    await rt.close();
    await cold.close();
    rmSync(tmp, { recursive: true, force: true });
  }
});

test('a warm-up for a model spec that does not load fails naming it, before any shard is taken', async () => {
  const rt = new Runtime({ executor: 'workers' });
  const models = new ShardModels(rt);
  try {
    await assert.rejects(warmForFeatures(models, 'onnx:/nonexistent/backbone.onnx'), /nonexistent\/backbone\.onnx/);
  } finally {
    await models.close();
    await rt.close();
  }
});
