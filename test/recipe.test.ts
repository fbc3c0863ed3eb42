import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import { models, nn, optim, F, DataLoader, data } from '../src/index.ts';
import { writePth } from '../src/formats/pth.ts';
import { deterministicStateDict } from './support/deterministic.ts';

const sample = resolve(import.meta.dirname, '..', 'assets', 'sample-data', 'hymenoptera-mini');

test('the transfer-learning recipe from the README runs as written', { timeout: 300_000 }, async () => {
  // Stand-in ImageNet weights where graft's cache keeps them, so `weights: 'IMAGENET1K_V2'` resolves
  // exactly as for a user who downloaded them once (no network here).
  const home = mkdtempSync(join(tmpdir(), 'graft-home-'));
  const saved = process.env.GRAFT_HOME;
  process.env.GRAFT_HOME = home;
  try {
    mkdirSync(join(home, 'checkpoints'));
    const keys = [...(await models.resnet50()).stateDict()].map(([k, v]) => [k, v.shape] as [string, number[]]);
    const pretrained = deterministicStateDict(keys);
    await writePth(join(home, 'checkpoints', 'resnet50-11ad3fa6.pth'), pretrained);

    // The recipe, as README.md shows it (two classes, a small loader, two epochs).
    const model = await models.resnet50({ weights: 'IMAGENET1K_V2' });
    for (const p of model.parameters()) p.requiresGrad = false;
    model.fc = new nn.Linear(model.fc.inFeatures, 2);
    const optimizer = new optim.SGD(model.fc.parameters(), { lr: 1e-3, momentum: 0.9 });
    const headBefore = (model.fc.weight.value as Float32Array).slice();
    const loader = new DataLoader(new data.ImageFolder(join(sample, 'train')), { batchSize: 16, shuffle: true, transform: data.evalPreset() });
    const epochLoss: number[] = [];
    let images = 0;
    for (let epoch = 0; epoch < 2; epoch++) {
      let sum = 0;
      let n = 0;
      for await (const [x, y] of loader) {
        images += x.shape[0];
        assert.deepEqual([x.shape.slice(1), y.dtype], [[3, 224, 224], 'int64']);
        optimizer.zeroGrad();
        const loss = F.crossEntropy(model.forward(x), y);
        await loss.backward();
        optimizer.step();
        sum += await loss.item();
        n++;
      }
      epochLoss.push(sum / n);
    }
    await loader.close();

    assert.equal(epochLoss.length, 2);
    assert.ok(epochLoss.every(Number.isFinite), `losses ${epochLoss}`);
    // The stand-in weights are not ImageNet's, so whether the loss falls says nothing here; that
    // the head learns on real weights is checked end to end (npm run e2e).
    assert.equal(images, 2 * 80);
    // Frozen weights are bit-identical to the checkpoint; only the new head moved.
    const after = model.stateDict();
    for (const [k, v] of pretrained) {
      if (k.startsWith('fc.')) continue;
      assert.deepEqual(after.get(k)!.data, v.data, k);
    }
    assert.notDeepEqual(after.get('fc.weight')!.data, headBefore, 'the new head was trained');
  } finally {
    if (saved === undefined) delete process.env.GRAFT_HOME;
    else process.env.GRAFT_HOME = saved;
    rmSync(home, { recursive: true, force: true });
  }
});
