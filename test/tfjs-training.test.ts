// An imported TF.js model as a backbone: frozen under a new head, or fine-tuned, with gradients
// through its converted layers (asymmetric 'same' padding, depthwise, zero padding, add, concat)
// checked against finite differences.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';

import { F, nn, tensor, labels, manualSeed, type Tensor } from '../src/index.ts';
import { zeroGrad } from '../src/runtime/index.ts';
import { crossEntropy } from '../src/nn/losses.ts';
import { createModel } from '../src/models/registry.ts';
import type { TfjsLayersModel } from '../src/models/tfjs-model.ts';

const TINY = path.resolve(import.meta.dirname, 'fixtures', 'tfjs', 'tiny', 'model.json');
const load = async () => (await createModel(`tfjs:${TINY}`)) as TfjsLayersModel;
const input = (n: number, seed: number) => tensor(Float32Array.from({ length: n * 3 * 8 * 8 }, (_, i) => Math.sin(i * 0.7 + seed)), [n, 3, 8, 8]);

test('frozen backbone, new Linear head on features(x): only the head learns', async () => {
  manualSeed(3);
  const model = (await load()).train();
  model.requiresGrad_(false);
  const head = new nn.Linear(model.numFeatures!, 2);
  const x = input(4, 1);
  const y = labels([0, 1, 1, 0]);
  const before = [...model.parameters()].map((p) => (p.value as Float32Array).slice());
  const stats = (model.stateDict().get('net.features.backbone_model.stem_bn.running_mean')!.data as Float32Array).slice();
  const losses: number[] = [];
  for (let i = 0; i < 30; i++) {
    zeroGrad([...head.parameters()]);
    const loss = crossEntropy(head.forward(model.features(x)), y);
    await loss.backward();
    losses.push(await loss.item());
    for (const p of head.parameters()) {
      const g = p.grad!.value as Float32Array;
      p.assign(Float32Array.from(p.value as Float32Array, (v, k) => v - 0.5 * g[k]));
    }
  }
  assert.ok(losses.at(-1)! < losses[0] * 0.9, `loss did not fall: ${losses[0]} -> ${losses.at(-1)}`);
  [...model.parameters()].forEach((p, i) => {
    assert.equal(p.grad, null, 'a frozen backbone parameter got a gradient');
    assert.deepEqual(p.value, before[i]);
  });
  // Frozen batch norm stays in inference mode: running statistics untouched.
  assert.deepEqual(model.stateDict().get('net.features.backbone_model.stem_bn.running_mean')!.data, stats);
});

/** sum(features(x) * r): a scalar whose gradient reaches every backbone weight. */
function objective(model: TfjsLayersModel, x: Tensor): Tensor {
  const f = model.features(x);
  const r = tensor(Float32Array.from({ length: f.size }, (_, i) => Math.cos(i * 1.3)), f.shape);
  return F.sum(F.mul(f, r));
}

test('fine-tuning: backbone gradients match finite differences', async () => {
  const model = (await load()).eval();
  const x = input(2, 2);
  const params = new Map(model.namedParameters());
  for (const p of params.values()) p.requiresGrad = true;
  await objective(model, x).backward();
  const probe = ['net.features.backbone_model.stem.weight', 'net.features.backbone_model.dw.weight', 'net.features.backbone_model.dilated.bias', 'net.features.backbone_model.down_dw.weight'];
  for (const key of probe) {
    const p = params.get(key)!;
    assert.ok(p.grad, `${key} has no gradient`);
    const g = p.grad.value as Float32Array;
    const w = p.value as Float32Array;
    for (const i of [0, Math.floor(w.length / 2), w.length - 1]) {
      const h = 1e-2;
      const orig = w[i];
      const at = async (v: number) => {
        const copy = w.slice();
        copy[i] = v;
        p.assign(copy);
        return objective(model, x).item();
      };
      const numeric = ((await at(orig + h)) - (await at(orig - h))) / (2 * h);
      p.assign(w);
      const tol = 2e-2 * Math.max(1, Math.abs(numeric));
      assert.ok(Math.abs(numeric - g[i]) <= tol, `${key}[${i}]: analytic ${g[i]} vs numeric ${numeric}`);
    }
  }
});

test('fine-tuning in train mode updates batch-norm statistics of trainable layers', async () => {
  const model = (await load()).train();
  const key = 'net.features.backbone_model.stem_bn.running_mean';
  const before = (model.stateDict().get(key)!.data as Float32Array).slice();
  await objective(model, input(4, 3)).backward();
  assert.notDeepEqual(model.stateDict().get(key)!.data, before);
  for (const [name, p] of model.namedParameters()) {
    // features(x) stops before the head: only the backbone is differentiated.
    assert.equal(p.grad !== null, name.startsWith('net.features.'), `${name}: gradient ${p.grad ? 'present' : 'missing'}`);
  }
});
