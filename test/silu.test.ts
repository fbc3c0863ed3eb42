// SiLU as one op (graph/ops/elementwise.ts): its gradient computes the sigmoid again, and reads a
// train-mode batch norm's output recomputed from that batch norm's input, so that neither the
// sigmoid nor the batch norm's output is kept from the forward to the backward. These check the
// values against x * sigmoid(x) composed of two ops, that the backward reads neither, and that an
// exported graph keeps to standard operators.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { F, nn, tensor, type Tensor } from '../src/index.ts';
import { gradients } from '../src/autodiff/index.ts';
import * as ops from '../src/graph/ops/index.ts';
import { GraphBuilder } from '../src/graph/emit.ts';
import { compile, emitTrace, trace } from '../src/graph/trace.ts';
import { realize } from '../src/runtime/index.ts';
import { deterministicInput } from './support/deterministic.ts';

const shape = [2, 8, 5, 5];

function param(values: Float32Array, dims: number[]): Tensor {
  const t = tensor(values, dims);
  t.requiresGrad = true;
  return t;
}

/** A convolution, a train-mode batch norm and a SiLU (EfficientNet's Conv2dNormActivation), with a loss on the output. */
function block(silu: (t: Tensor) => Tensor) {
  const x = param(Float32Array.from(deterministicInput(shape, 1)), shape);
  const w = param(Float32Array.from(deterministicInput([8, 8, 3, 3], 2), (v) => v * 0.2), [8, 8, 3, 3]);
  const bn = new nn.BatchNorm2d(8);
  bn.train();
  bn.weight.assign(Float32Array.from(deterministicInput([8], 3), (v) => 1 + 0.3 * v));
  bn.bias.assign(Float32Array.from(deterministicInput([8], 4), (v) => 0.3 * v));
  const normalized = bn.forward(F.conv2d(x, w, null, { padding: 1 }));
  const y = silu(normalized);
  const loss = F.sum(F.mul(y, tensor(Float32Array.from(deterministicInput(shape, 5)), shape)));
  return { x, w, bn, normalized, y, loss };
}

test('silu after a train-mode batch norm: values and gradients match x * sigmoid(x) composed of two ops', async () => {
  const results = [];
  for (const silu of [F.silu, (t: Tensor) => F.mul(t, F.sigmoid(t))]) {
    const { x, w, bn, y, loss } = block(silu);
    const grads = gradients(loss, (t) => t === x || t === w || t === bn.weight || t === bn.bias);
    const wanted = [y, grads.get(x)!, grads.get(w)!, grads.get(bn.weight)!, grads.get(bn.bias)!];
    await realize(wanted);
    results.push(wanted.map((t) => t.value as Float32Array));
  }
  const [one, composed] = results;
  one.forEach((got, k) => {
    const want = composed[k];
    const scale = Math.max(...want.map(Math.abs));
    for (let i = 0; i < want.length; i++) assert.ok(Math.abs(got[i] - want[i]) <= 1e-5 * scale, `output ${k}[${i}]: ${got[i]} vs ${want[i]}`);
  });
});

test("silu's gradient reads neither a sigmoid of the forward nor the batch norm's output", () => {
  const { x, w, normalized, loss } = block(F.silu);
  const grads = gradients(loss, (t) => t === x || t === w);
  const readers: Tensor[] = [];
  const seen = new Set<Tensor>();
  const visit = (t: Tensor) => {
    if (seen.has(t)) return;
    seen.add(t);
    if (t.inputs.includes(normalized)) readers.push(t);
    t.inputs.forEach(visit);
  };
  [grads.get(x)!, grads.get(w)!].forEach(visit);
  assert.equal(normalized.op, ops.batchNormTrain);
  assert.equal(readers.length, 0, `the gradients read the batch norm's output through ${readers.map((t) => t.op?.name)}`);
  assert.equal([...seen].filter((t) => t.op === ops.sigmoid && t.inputs[0] === normalized).length, 0);
});

test('silu is one ONNX Runtime node in graphs graft runs and standard Sigmoid and Mul in an exported graph', () => {
  const x = tensor(Float32Array.from(deterministicInput(shape, 1)), shape);
  const tr = trace([F.silu(x)]);
  const latin = (bytes: Uint8Array) => new TextDecoder('latin1').decode(bytes);
  assert.match(latin(compile(tr)), /QuickGelu/);
  const b = new GraphBuilder();
  b.symbolicBatch = true;
  b.standardOps = true;
  b.addInput({ name: 'x', dtype: 'float32', shape: ['N', ...shape.slice(1)] });
  const [out] = emitTrace(b, tr, ['x']);
  b.alias(out, 'y');
  b.addOutput({ name: 'y', dtype: 'float32', shape: null });
  const exported = latin(b.serialize());
  assert.doesNotMatch(exported, /QuickGelu|com\.microsoft/);
  assert.match(exported, /Sigmoid/);
});
