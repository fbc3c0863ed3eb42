// timm's ConvNeXts and EfficientNets from the Hugging Face cache (`hf:timm/convnext_tiny.fb_in22k`)
// against timm: each golden of scripts/make_timm_goldens.py (test/fixtures/timm-cnn/<case>.json)
// names the repository, timm's config.json and its state-dict keys; the test writes that
// checkpoint with deterministic weights into a cache laid out as huggingface_hub writes it, maps
// timm's keys onto graft's ConvNeXt or EfficientNet, and compares the logits (or, for a
// checkpoint without a head, the pooled features) with timm's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';

import { models, tensor } from '../src/index.ts';
import { runStages, splitAtHead } from '../src/models/stages.ts';
import type { HubModel } from '../src/models/hub-model.ts';
import { deterministicInput } from './support/deterministic.ts';
import { TIMM_RTOL, assertMatchesTimm } from './support/timm-golden.ts';
import { withHubCheckpoint } from './support/hub-cache.ts';

interface TimmGolden {
  case: string; repo: string; architecture: string; config: { num_classes: number; pretrained_cfg: { crop_pct: number; mean: number[]; interpolation: string } };
  keys: [string, number[]][]; image_size: number; input_shape: number[]; output: number[][]; max_abs: number;
}
const dir = new URL('./fixtures/timm-cnn/', import.meta.url);
const goldens = readdirSync(dir).filter((f) => f.endsWith('.json')).sort()
  .map((f) => JSON.parse(readFileSync(new URL(f, dir), 'utf8')) as TimmGolden);

test('the timm ConvNeXt and EfficientNet goldens are there', () => {
  assert.deepEqual(goldens.map((g) => g.architecture), ['convnext_atto', 'convnext_tiny', 'efficientnet_b0'], 'regenerate them with scripts/make_timm_goldens.py (needs torch and timm)');
});

for (const g of goldens) {
  test(`hf:${g.repo} (${g.case}, ${g.image_size} x ${g.image_size}) matches timm within ${TIMM_RTOL} of the output scale`, async (t) => {
    const out = await withHubCheckpoint(g.repo, g.config, g.keys, async () => {
      const m = (await models.createModel(`hf:${g.repo}`)) as HubModel;
      m.eval();
      const pre = m.preprocessing!;
      assert.deepEqual([pre.cropSize, pre.resizeSize, pre.interpolation, pre.mean],
        [g.image_size, Math.floor(g.image_size / g.config.pretrained_cfg.crop_pct), g.config.pretrained_cfg.interpolation, g.config.pretrained_cfg.mean]);
      const x = tensor(deterministicInput(g.input_shape), g.input_shape);
      // Without a head (num_classes 0) timm returns the pooled (for ConvNeXt, normalized) features: graft's embedding.
      const y = g.config.num_classes === 0 ? runStages(splitAtHead(m.stages()).backbone, x) : m.forward(x);
      return y.data();
    });
    assertMatchesTimm(t, g, out);
  });
}

test('timm variants that graft does not compute are refused by name, with the reason and the supported architectures', async () => {
  const g = goldens.find((x) => x.architecture === 'efficientnet_b0')!;
  for (const [architecture, why] of [['tf_efficientnet_b0', "'same' padding"], ['convnext_atto_ols', 'overlapping tiered stem'], ['resnet50', null]] as const) {
    await withHubCheckpoint(g.repo, { ...g.config, architecture }, g.keys, async () => {
      await assert.rejects(models.createModel(`hf:${g.repo}`), (e: Error) => {
        assert.match(e.message, new RegExp(`graft has no architecture "${architecture}"`));
        if (why) assert.ok(e.message.includes(why), e.message);
        assert.match(e.message, /it builds timm's vit_small_patch14_dinov2, .*convnext_atto, .*convnext_tiny, .*efficientnet_b0, .*efficientnet_b4$/);
        return true;
      });
    });
  }
});

test('a key timm has and graft does not is refused, naming it', async () => {
  const g = goldens.find((x) => x.architecture === 'convnext_atto')!;
  await withHubCheckpoint(g.repo, g.config, [...g.keys, ['stages.0.blocks.0.grn.weight', [40]]], async () => {
    await assert.rejects(models.createModel(`hf:${g.repo}`), /keys graft's ConvNeXt does not have: stages\.0\.blocks\.0\.grn\.weight/);
  });
});
