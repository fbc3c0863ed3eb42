// Validation during training bakes the current weights into a graph of its own (so ONNX Runtime
// can fold batch norm into the convolutions). These tests check that it always sees the weights
// as they are now, leaves the trainable set as it was and releases the sessions it compiled.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join, resolve } from 'node:path';
import { F, nn, optim, tensor, manualSeed, labels } from '../src/index.ts';
import { backward } from '../src/runtime/index.ts';
import { Compose, DataLoader, ImageFolder, Resize, CenterCrop, ToTensor } from '../src/data/index.ts';
import { evaluateImages } from '../src/train/loops.ts';
import { cachedSessionCount, releaseSessions, withTransientSessions } from '../src/runtime/index.ts';

const val = join(resolve(import.meta.dirname, '..'), 'assets', 'sample-data', 'hymenoptera-mini', 'val');

function smallNet(): nn.Module {
  manualSeed(3);
  return new nn.Sequential(
    new nn.Conv2d(3, 8, 3, { padding: 1, bias: false }), new nn.BatchNorm2d(8), new nn.ReLU(),
    new nn.AdaptiveAvgPool2d(1), new nn.Flatten(), new nn.Linear(8, 2),
  );
}

/** Mean cross-entropy over the loader, computed with the weights fed (not baked). */
async function fedLoss(model: nn.Module, loader: DataLoader): Promise<number> {
  model.eval();
  let sum = 0;
  let n = 0;
  for await (const b of loader) {
    const loss = F.crossEntropy(model.forward(tensor(b.images, b.shape)), labels(b.labels as Int32Array));
    sum += (await loss.item()) * b.shape[0];
    n += b.shape[0];
  }
  return sum / n;
}

test('evaluation mid-training sees the updated weights, keeps them trainable and releases its sessions', async () => {
  await releaseSessions();
  const data = new ImageFolder(val);
  const loader = new DataLoader(data, { batchSize: 16, transform: new Compose([new Resize(40), new CenterCrop(32), new ToTensor()]) });
  const model = smallNet();
  const optimizer = new optim.SGD(model.parameters(), { lr: 0.5, momentum: 0.9 });
  try {
    const losses: number[] = [];
    for (let round = 0; round < 2; round++) {
      const before = cachedSessionCount();
      const result = await evaluateImages(model, loader, data.classes);
      assert.equal(cachedSessionCount(), before, 'the baked validation graphs are released after the pass');
      assert.ok([...model.parameters()].every((p) => p.requiresGrad), 'parameters stay trainable');
      const reference = await fedLoss(model, loader);
      assert.ok(Math.abs(result.loss - reference) <= 1e-5 * Math.max(1, reference), `baked ${result.loss} vs fed ${reference}`);
      losses.push(result.loss);

      model.train();
      for await (const b of loader) {
        optimizer.zeroGrad();
        await backward(F.crossEntropy(model.forward(tensor(b.images, b.shape)), labels(b.labels as Int32Array)));
        optimizer.step();
      }
    }
    assert.notEqual(losses[0], losses[1], 'the second pass evaluates the trained weights');
  } finally {
    await loader.close();
  }
});

test('withTransientSessions releases what it compiled even when its body throws, and nothing else', async () => {
  await releaseSessions();
  const x = new nn.Linear(4, 3);
  await x.forward(tensor(new Float32Array(8).fill(1), [2, 4])).data();
  assert.equal(cachedSessionCount(), 1);
  await assert.rejects(withTransientSessions(async () => {
    await x.forward(tensor(new Float32Array(12).fill(1), [3, 4])).data();
    assert.equal(cachedSessionCount(), 2);
    throw new Error('stop');
  }), /stop/);
  assert.equal(cachedSessionCount(), 1, 'the session compiled before stays cached');
});
