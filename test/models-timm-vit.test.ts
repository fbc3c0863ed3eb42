// timm's Vision Transformers from the Hugging Face cache (`hf:<org>/<name>`, `timm:<name>`) against
// timm: each golden of scripts/make_timm_goldens.py (test/fixtures/timm/<case>.json) names the
// repository, timm's config.json and its state-dict keys; the test writes that checkpoint with
// deterministic weights into a cache laid out as huggingface_hub writes it, builds it for the
// golden's image size (resampling the position embeddings where the checkpoint's grid differs,
// as timm does) and compares the pooled features (or logits, with a head) with timm's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { models, tensor } from '../src/index.ts';
import { runStages, splitAtHead } from '../src/models/stages.ts';
import type { VisionTransformer } from '../src/models/vit.ts';
import { deterministicInput } from './support/deterministic.ts';
import { TIMM_RTOL, assertMatchesTimm } from './support/timm-golden.ts';
import { withHubCheckpoint } from './support/hub-cache.ts';

interface TimmGolden {
  case: string; repo: string; architecture: string; config: { num_classes: number; pretrained_cfg: { crop_pct: number; mean: number[] } };
  keys: [string, number[]][]; checkpoint_image_size: number; image_size: number; input_shape: number[]; output: number[][]; max_abs: number;
}
const dir = new URL('./fixtures/timm/', import.meta.url);
const goldens = readdirSync(dir).filter((f) => f.endsWith('.json')).sort()
  .map((f) => JSON.parse(readFileSync(new URL(f, dir), 'utf8')) as TimmGolden);

/** Runs `fn` with HF_HUB_CACHE pointing at a cache holding the golden's checkpoint. */
const withCheckpoint = <T>(g: TimmGolden, fn: () => Promise<T>, config: unknown = g.config): Promise<T> => withHubCheckpoint(g.repo, config, g.keys, fn);

test('the timm goldens are there', () => assert.ok(goldens.length >= 6, 'regenerate them with scripts/make_timm_goldens.py (needs torch and timm)'));

for (const g of goldens) {
  const spec = g.repo.startsWith('timm/') && g.case.includes('reg4') ? `timm:${g.repo.slice(5)}` : `hf:${g.repo}`;
  test(`${spec} (${g.case}: ${g.checkpoint_image_size} -> ${g.image_size}) matches timm within ${TIMM_RTOL} of the output scale`, async (t) => {
    const out = await withCheckpoint(g, async () => {
      const m = (await models.createModel(spec, { imageSize: g.image_size })) as VisionTransformer;
      m.eval();
      const grid = g.image_size / m.variant.patchSize;
      assert.equal(m.encoder.pos_embedding.shape[1], grid * grid + (m.noEmbedClass ? 0 : m.prefixTokens));
      assert.equal(m.preprocessing!.cropSize, g.image_size);
      assert.equal(m.preprocessing!.resizeSize, Math.floor(g.image_size / g.config.pretrained_cfg.crop_pct));
      const x = tensor(deterministicInput(g.input_shape), g.input_shape);
      // Without a head (num_classes 0) timm returns the pooled features: graft's embedding.
      const y = g.config.num_classes === 0 ? runStages(splitAtHead(m.stages()).backbone, x) : m.forward(x);
      return y.data();
    });
    assertMatchesTimm(t, g, out);
  });
}

test('a checkpoint whose architecture graft lacks is refused, naming it and the supported ones', async () => {
  const g = goldens[0];
  const config = { ...g.config, architecture: 'vit_giant_patch14_dinov2' };
  await withCheckpoint(g, async () => {
    await assert.rejects(models.createModel(`hf:${g.repo}`), /graft has no architecture "vit_giant_patch14_dinov2"; it builds timm's vit_small_patch14_dinov2, vit_base_patch14_dinov2, .*vit_base_patch32_224/);
  }, config);
});

test('a repository missing from the cache, offline, is refused naming the cache searched', async () => {
  const saved = { HF_HUB_CACHE: process.env.HF_HUB_CACHE, HF_HUB_OFFLINE: process.env.HF_HUB_OFFLINE };
  const empty = mkdtempSync(join(tmpdir(), 'graft-empty-hub-'));
  process.env.HF_HUB_CACHE = empty;
  process.env.HF_HUB_OFFLINE = '1';
  try {
    await assert.rejects(models.createModel('timm:vit_small_patch14_dinov2.lvd142m'),
      (e: Error) => e.message.startsWith(`HF_HUB_OFFLINE is set, so graft does not download the Hugging Face model timm/vit_small_patch14_dinov2.lvd142m@main; config.json and model.safetensors are not in the cache ${empty}`));
  } finally {
    for (const [k, v] of Object.entries(saved)) if (v === undefined) delete process.env[k]; else process.env[k] = v;
    rmSync(empty, { recursive: true, force: true });
  }
  await assert.rejects(models.createModel('hf:no-slash'), /Expected a Hugging Face repository as <org>\/<name> but received "no-slash"/);
});
