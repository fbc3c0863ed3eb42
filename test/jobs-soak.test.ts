// A long-lived process in miniature: a predict() loop keeps answering while a training job runs
// in the same process, and its memory settles. bench/jobs-soak.ts runs the same for 10,000 calls.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { predictBesideTraining } from '../bench/soak-loop.ts';

test('predict() calls complete while a training job runs, and RSS grows by less than 5% over the loop', { timeout: 300_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'graft-soak-'));
  try {
    const r = await predictBesideTraining({ calls: 400, warmup: 100, dir });
    assert.ok(r.everyCallBesideTraining, 'the training job ended before the loop did');
    assert.ok(r.trainingStepsDuringLoop > 0, 'the training job took no step while predict ran');
    assert.ok(r.rssGrowth < 0.05, `RSS grew from ${r.rssAfterWarmupMb.toFixed(1)} MB to ${r.rssEndMb.toFixed(1)} MB`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
