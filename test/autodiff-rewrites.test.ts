// The rewrites of the gradient graph (src/autodiff/rewrites): what they do to ResNet's stem and to
// whole resnet18 and mobilenet_v2 training graphs, that switching any of them off changes no value
// beyond float rounding, and the pass's own promises (nodes rebuilt only where something changed,
// scopes kept, computed values left alone).
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { F, models, tensor, type Tensor } from '../src/index.ts';
import {
  grad, gradients, gradientRewrites, gateAtPooledSize, channelScaleOntoWeights, rewriteGraph, type GraphRewrite,
} from '../src/autodiff/index.ts';
import { apply } from '../src/graph/op.ts';
import * as ops from '../src/graph/ops/index.ts';
import { trace } from '../src/graph/trace.ts';
import { withScope } from '../src/graph/scope.ts';
import { realize } from '../src/runtime/index.ts';
import { normalizeWithBatchStats } from '../src/nn/batchnorm-train.ts';
import { deterministicInput } from './support/deterministic.ts';

const input = (shape: number[], seed: number) => tensor(deterministicInput(shape, seed), shape);
function param(shape: number[], seed: number, scale = 0.2): Tensor {
  const t = tensor(Float32Array.from(deterministicInput(shape, seed), (v) => v * scale), shape);
  t.requiresGrad = true;
  return t;
}
const sameShape = (t: Tensor, shape: readonly number[]) => t.ndim === shape.length && t.shape.every((d, i) => d === shape[i]);
const isPerChannel = (t: Tensor) => t.ndim === 4 && t.shape[0] === 1 && t.shape[2] === 1 && t.shape[3] === 1;
const without = (r: GraphRewrite) => gradientRewrites.filter((x) => x !== r);

/** ResNet-18's own stem (conv1, bn1, relu, maxpool) in train mode, its parameters, and a loss on its output. */
async function resnetStem() {
  const m = await models.resnet18();
  m.train();
  const x = input([2, 3, 32, 32], 1);
  const pooled = m.maxpool.forward(m.relu.forward(m.bn1.forward(m.conv1.forward(x))));
  const loss = F.sum(F.mul(pooled, input([...pooled.shape], 2)));
  return { loss, params: [m.conv1.weight, m.bn1.weight, m.bn1.bias] as Tensor[], full: [2, 64, 16, 16], pooledShape: [...pooled.shape] };
}

/** The ops a training step compiles for these gradients, in emission order. */
const compiledNodes = (loss: Tensor, grads: readonly Tensor[]) => trace([loss, ...grads]).nodes;

test('resnet18 stem: the relu gates the pooled gradient, and no full-size per-channel product reaches the conv gradient', async () => {
  const { loss, params, full, pooledShape } = await resnetStem();
  const nodes = compiledNodes(loss, grad(loss, params) as Tensor[]);
  const gates = nodes.filter((t) => t.op === ops.gate);
  assert.equal(gates.length, 1);
  assert.deepEqual(gates[0].shape, pooledShape, 'the gate acts at the pooled size');
  const weightGrad = nodes.find((t) => t.op === ops.conv2dWeightGrad)!;
  assert.notEqual(weightGrad.inputs[1].op, ops.mul, 'the conv weight gradient reads dY without its per-channel factor');
  const fullPerChannel = nodes.filter((t) => t.op === ops.mul && sameShape(t, full) && t.inputs.some(isPerChannel));
  assert.deepEqual(fullPerChannel, [], 'no full-size product by a per-channel factor');
  const scaled = nodes.filter((t) => t.op === ops.mul && t.inputs[0] === weightGrad);
  assert.equal(scaled.length, 1, 'the factor scales the weight gradient instead');
});

test('resnet18 stem with the rewrites off: the textbook gate at full size, and the full-size product before the conv gradient', async () => {
  const { loss, params, full } = await resnetStem();
  const nodes = compiledNodes(loss, grad(loss, params, { rewrites: [] }) as Tensor[]);
  const gates = nodes.filter((t) => t.op === ops.gate);
  assert.deepEqual(gates.map((t) => [...t.shape]), [full]);
  const weightGrad = nodes.find((t) => t.op === ops.conv2dWeightGrad)!;
  assert.equal(weightGrad.inputs[1].op, ops.mul);
  assert.ok(sameShape(weightGrad.inputs[1], full) && weightGrad.inputs[1].inputs.some(isPerChannel));
});

/** dY of a conv gradient, when it is a full-size product by a per-channel factor. */
const perChannelProductRead = (t: Tensor) => {
  const dy = t.op === ops.conv2dInputGrad ? t.inputs[0] : t.op === ops.conv2dWeightGrad ? t.inputs[1] : null;
  return dy?.op === ops.mul && dy.inputs.some(isPerChannel) ? dy : null;
};

for (const arch of ['resnet18', 'mobilenet_v2'] as const) {
  test(`${arch} training step: no conv gradient reads a per-channel product, and no gate is left on a max pool's gradient`, async () => {
    const m = await models[arch]();
    m.train();
    const loss = F.sum(m.forward(input([2, 3, 32, 32], 19)));
    const params = [...m.parameters()];
    const count = (rewrites: readonly GraphRewrite[]) => {
      const nodes = compiledNodes(loss, grad(loss, params, { rewrites }) as Tensor[]);
      return {
        perChannelReads: nodes.filter(perChannelProductRead).length,
        gatesOnPoolGrads: nodes.filter((t) => t.op === ops.gate && t.inputs[0].op === ops.maxPool2dGrad).length,
      };
    };
    assert.deepEqual(count(gradientRewrites), { perChannelReads: 0, gatesOnPoolGrads: 0 });
    const off = count([]);
    assert.ok(off.perChannelReads > 0, 'without the rewrites, batch norm\'s factor reaches the conv gradients');
    assert.equal(off.gatesOnPoolGrads, arch === 'resnet18' ? 1 : 0);
  });
}

/**
 * Two conv, batch norm, relu layers with a max pool between them, biases, and the input's
 * gradient too: every gradient the rewrites touch (the gate, a conv's input, weight and bias
 * gradients). A bias before a batch norm has no gradient in exact arithmetic, so the bias
 * rewrite's values are checked on their own below.
 */
function twoLayers() {
  const x = param([2, 3, 17, 17], 3, 1);
  const w1 = param([8, 3, 3, 3], 4), b1 = param([8], 5), g1 = param([8], 6), s1 = param([8], 7);
  const w2 = param([16, 8, 3, 3], 8), b2 = param([16], 9), g2 = param([16], 10), s2 = param([16], 11);
  let h = F.conv2d(x, w1, b1, { stride: 2 });
  h = F.maxPool2d(F.relu(normalizeWithBatchStats(h, g1, s1, 1e-5).y), 3, { stride: 2, padding: 1 });
  h = F.relu(normalizeWithBatchStats(F.conv2d(h, w2, b2, { padding: 1 }), g2, s2, 1e-5).y);
  const loss = F.sum(F.mul(h, input([...h.shape], 12)));
  return { loss, wanted: [x, w1, b1, g1, s1, w2, b2, g2, s2] };
}

async function values(rewrites: readonly GraphRewrite[]): Promise<{ grads: Float32Array[]; signature: string }> {
  const { loss, wanted } = twoLayers();
  const grads = grad(loss, wanted, { rewrites }) as Tensor[];
  await realize(grads);
  return { grads: grads.map((g) => g.value as Float32Array), signature: trace(grads).signature };
}

for (const [label, rewrites] of [
  ['gateAtPooledSize off', without(gateAtPooledSize)],
  ['channelScaleOntoWeights off', without(channelScaleOntoWeights)],
  ['all rewrites off', []],
] as const) {
  test(`${label}: every gradient equals the rewritten one to float rounding`, async () => {
    const on = await values(gradientRewrites);
    const off = await values(rewrites);
    assert.notEqual(off.signature, on.signature, 'switching the rewrite off should change the graph');
    const largest = (v: Float32Array) => Math.max(...Array.from(v, Math.abs));
    // Float noise on gradients that are zero in exact arithmetic, against the largest gradient.
    const floor = 1e-6 * Math.max(...on.grads.map(largest));
    on.grads.forEach((a, k) => {
      const b = off.grads[k];
      const tol = Math.max(1e-5 * largest(a), floor);
      for (let i = 0; i < a.length; i++) {
        assert.ok(Math.abs(a[i] - b[i]) <= tol, `gradient ${k}[${i}]: ${a[i]} rewritten, ${b[i]} not (tolerance ${tol})`);
      }
    });
  });
}

test('gradients() gives the wanted tensors only, rewritten', () => {
  const { loss, wanted } = twoLayers();
  const grads = gradients(loss, (t) => wanted.includes(t));
  assert.deepEqual(new Set(grads.keys()), new Set(wanted));
  assert.equal(trace([...grads.values()]).nodes.filter((t) => t.op === ops.gate && t.shape[2] === 8).length, 0,
    'no gate is left at the size before the pool');
});

test('a pass that replaces nothing rebuilds nothing, and offers each node once', () => {
  const { loss, wanted } = twoLayers();
  const plain = [...gradients(loss, (t) => wanted.includes(t), undefined, { rewrites: [] }).values()];
  const seen: Tensor[] = [];
  const watch: GraphRewrite = (node) => { seen.push(node); return null; };
  const again = rewriteGraph(plain, [watch]);
  again.forEach((t, i) => assert.equal(t, plain[i]));
  assert.equal(new Set(seen).size, seen.length);
  assert.equal(seen.length, trace(plain).nodes.length);
});

/** gate(maxPool2dGrad(gy, x), x), the textbook relu gradient under a max pool, built in the `relu` scope. */
function gatedPoolGradient() {
  const x = F.relu(input([1, 2, 6, 6], 13));
  const pool = { kernel: [3, 3], stride: [2, 2], padding: [1, 1], dilation: [1, 1], ceilMode: false, countIncludePad: false } as ops.PoolAttrs;
  const gy = input([1, 2, 3, 3], 14);
  const scattered = withScope('pool', () => apply(ops.maxPool2dGrad, [gy, x], pool));
  const gated = withScope('relu', () => apply(ops.gate, [scattered, x], { lo: 0, hi: Infinity }));
  const after = withScope('head', () => F.mul(gated, 2));
  return { x, gy, scattered, gated, after };
}

test('gateAtPooledSize alone: the replacement takes the scope of the node it replaces, and what reads it is rebuilt in its own', async () => {
  const { gy, after } = gatedPoolGradient();
  const [rewritten] = rewriteGraph([after], [gateAtPooledSize]);
  assert.notEqual(rewritten, after);
  assert.equal(rewritten.scope, 'head');
  const [scattered] = rewritten.inputs;
  assert.equal(scattered.op, ops.maxPool2dGrad);
  assert.equal(scattered.scope, 'relu');
  assert.equal(scattered.inputs[0].op, ops.gate);
  assert.deepEqual(scattered.inputs[0].shape, [1, 2, 3, 3]);
  assert.equal(scattered.inputs[0].inputs[0], gy, 'leaves are kept as they are');
  await realize([after, rewritten]);
  const [want, got] = [after.value as Float32Array, rewritten.value as Float32Array];
  assert.ok(want.some((v) => v !== 0) && want.every((v, i) => v === got[i]), 'the same values, exactly');
});

test('gateAtPooledSize leaves the gate alone where the full-size gradient has another use, or was computed already', () => {
  const { scattered, after } = gatedPoolGradient();
  const [kept, alsoScattered] = rewriteGraph([after, scattered], [gateAtPooledSize]);
  assert.equal(kept, after);
  assert.equal(alsoScattered, scattered);
  const computed = gatedPoolGradient();
  computed.scattered.value = new Float32Array(computed.scattered.size);
  assert.equal(rewriteGraph([computed.after], [gateAtPooledSize])[0], computed.after);
});

test('channelScaleOntoWeights alone: the same values, one reshaped factor for the input and weight gradients, the scope of each node replaced', async () => {
  const x = input([2, 4, 6, 6], 15);
  const w = input([8, 4, 3, 3], 16);
  const u = input([2, 8, 6, 6], 17);
  const s = input([1, 8, 1, 1], 18);
  const dy = withScope('bn', () => F.mul(u, s));
  const conv = { stride: [1, 1], padding: [1, 1], dilation: [1, 1], groups: 1 } as ops.ConvAttrs;
  const [dx, dw, db] = withScope('conv', () => [
    apply(ops.conv2dInputGrad, [dy, w], { ...conv, inputShape: [...x.shape] }),
    apply(ops.conv2dWeightGrad, [x, dy], { ...conv, weightShape: [...w.shape] }),
    F.sum(dy, [0, 2, 3]),
  ]);
  const rewritten = rewriteGraph([dx, dw, db], [channelScaleOntoWeights]);
  const nodes = trace(rewritten).nodes;
  assert.ok(!nodes.includes(dy), 'the full-size product is gone');
  assert.equal(nodes.filter((t) => t.op === ops.reshape && sameShape(t, [8, 1, 1, 1])).length, 1);
  assert.ok(nodes.every((t) => t.scope === 'conv'));
  assert.equal(rewritten[0].op, ops.conv2dInputGrad);
  assert.equal(rewritten[0].inputs[0], u);
  assert.equal(rewritten[1].op, ops.mul);
  assert.equal(rewritten[2].op, ops.mul);
  await realize([dx, dw, db, ...rewritten]);
  [dx, dw, db].forEach((t, k) => {
    const [want, got] = [t.value as Float32Array, rewritten[k].value as Float32Array];
    const tol = 1e-5 * Math.max(...Array.from(want, Math.abs));
    assert.ok(tol > 0 && want.every((v, i) => Math.abs(v - got[i]) <= tol), `gradient ${k} differs`);
  });
  const withOtherUse = rewriteGraph([dx, dw, F.exp(dy)], [channelScaleOntoWeights]);
  assert.equal(withOtherUse[0], dx);
  assert.equal(withOtherUse[1], dw);
});
