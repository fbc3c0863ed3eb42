// `graft train --model vit_b_16` with random weights (`--weights none`) on a few images of the
// bundled sample data: frozen (a new head on the fixed backbone) and with `--unfreeze 2` (the last
// two encoder layers train too); the model folder loads back and exports to ONNX (checked by the
// exporter against graft at batch sizes 1 and 3) and to a PyTorch checkpoint with torchvision's keys.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { trainAndExport } from './support/cli-train-export.ts';
import { smallDataset } from './support/small-dataset.ts';

const dir = mkdtempSync(join(tmpdir(), 'graft-train-vit-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));
smallDataset(join(dir, 'data'), { train: 4, val: 2 });

for (const unfreeze of [0, 2]) {
  test(`graft train --model vit_b_16 --weights none --unfreeze ${unfreeze} trains, and the folder exports to ONNX and PyTorch`, async () => {
    const out = join(dir, `vit-${unfreeze}`);
    const sd = await trainAndExport(join(dir, 'data'), out, 'vit_b_16', unfreeze);
    assert.deepEqual([...sd.get('heads.head.weight')!.shape], [2, 768]);
    assert.deepEqual([...sd.get('encoder.layers.encoder_layer_11.self_attention.in_proj_weight')!.shape], [2304, 768]);
    assert.deepEqual([...sd.get('encoder.pos_embedding')!.shape], [1, 197, 768]);
  });
}
