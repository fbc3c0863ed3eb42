// `graft train --model swin_t` with random weights (`--weights none`) on a few images of the
// bundled sample data, frozen but for the head and, with `--unfreeze 2`, the last two blocks and
// the final norm (stochastic depth in train mode, gradients through the shifted windows; the
// frozen head-only path is the trainer's own, as for every zoo model, and Swin's stages are
// checked in models-stages-swin); the model folder loads back and exports to ONNX
// (checked by the exporter against graft at batch sizes 1 and 3) and to a PyTorch checkpoint with
// torchvision's keys, the attention's index buffers included.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { trainAndExport } from './support/cli-train-export.ts';
import { smallDataset } from './support/small-dataset.ts';

const dir = mkdtempSync(join(tmpdir(), 'graft-train-swin-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));
smallDataset(join(dir, 'data'), { train: 4, val: 2 });

test('graft train --model swin_t --weights none --unfreeze 2 trains, and the folder exports to ONNX and PyTorch', async () => {
  const out = join(dir, 'swin');
  const sd = await trainAndExport(join(dir, 'data'), out, 'swin_t', 2);
  assert.deepEqual([...sd.get('head.weight')!.shape], [2, 768]);
  assert.deepEqual([...sd.get('features.7.1.attn.qkv.weight')!.shape], [2304, 768]);
  const index = sd.get('features.1.0.attn.relative_position_index')!;
  assert.deepEqual([index.dtype, index.shape], ['int64', [2401]]);
});
