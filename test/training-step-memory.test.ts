// What a training step keeps alive. ONNX Runtime schedules a graph from its last outputs back
// (runtime/backward.ts orders the gradients for that) and numbers the nodes its own fusions make
// after all of graft's, so graft emits the fused forms itself (FusedMatMul for a product with a
// transposed operand). A GELU's output is computed again in the backward rather than kept
// (autodiff/rewrites/recompute-activations.ts). These run a real step under ONNX Runtime's
// profiler and read which tensors lived how long (formats/step-memory.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { F, nn, tensor, type Tensor } from '../src/index.ts';
import * as T from '../src/graph/functional.ts';
import { gradients } from '../src/autodiff/index.ts';
import { GraphBuilder } from '../src/graph/emit.ts';
import { emitTrace, trace } from '../src/graph/trace.ts';
import { realize, releaseSessions, setRuntimeOptions } from '../src/runtime/index.ts';
import { readStepMemory } from '../src/formats/step-memory.ts';
import { deterministicInput } from './support/deterministic.ts';

function param(dims: number[], seed: number): Tensor {
  const t = tensor(Float32Array.from(deterministicInput(dims, seed)), dims);
  t.requiresGrad = true;
  return t;
}

const swapLastTwo = (t: Tensor) => T.transpose(t, -1, -2);

test('a matrix product with a transposed operand: the values and gradients of the transpose and the product', async () => {
  const cases: { a: number[]; b: number[] }[] = [
    { a: [5, 3], b: [5, 4] },
    { a: [2, 3, 6, 4], b: [3, 6, 5] },
  ];
  for (const { a: aDims, b: bDims } of cases) {
    for (const [transA, transB] of [[1, 0], [0, 1], [1, 1]] as const) {
      const a = param(transA ? aDims : [...aDims.slice(0, -2), aDims[aDims.length - 1], aDims[aDims.length - 2]], 1);
      const b = param(transB ? [...bDims.slice(0, -2), bDims[bDims.length - 1], bDims[bDims.length - 2]] : bDims, 2);
      const attrs = { ...(transA ? { transA: 1 as const } : {}), ...(transB ? { transB: 1 as const } : {}) };
      const fused = T.matmul(a, b, attrs);
      const plain = T.matmul(transA ? swapLastTwo(a) : a, transB ? swapLastTwo(b) : b);
      assert.deepEqual(fused.shape, plain.shape);
      const weights = tensor(Float32Array.from(deterministicInput(plain.shape, 3)), plain.shape);
      const results: Float32Array[][] = [];
      for (const c of [fused, plain]) {
        const grads = gradients(F.sum(F.mul(c, weights)), (t) => t === a || t === b);
        const wanted = [c, grads.get(a)!, grads.get(b)!];
        await realize(wanted);
        results.push(wanted.map((t) => t.value as Float32Array));
      }
      results[0].forEach((got, k) => {
        const want = results[1][k];
        const scale = Math.max(...want.map(Math.abs));
        for (let i = 0; i < want.length; i++) {
          assert.ok(Math.abs(got[i] - want[i]) <= 1e-5 * scale, `a ${aDims} b ${bDims} transA ${transA} transB ${transB}, output ${k}[${i}]: ${got[i]} vs ${want[i]}`);
        }
      });
    }
  }
});

test('a matrix product with a transposed operand is a standard Transpose and MatMul in an exported graph', () => {
  const a = tensor(Float32Array.from(deterministicInput([4, 3], 1)), [4, 3]);
  const b = tensor(Float32Array.from(deterministicInput([4, 5], 2)), [4, 5]);
  const tr = trace([T.matmul(a, b, { transA: 1 })]);
  const b0 = new GraphBuilder();
  b0.standardOps = true;
  b0.addInput({ name: 'a', dtype: 'float32', shape: [4, 3] });
  b0.addInput({ name: 'b', dtype: 'float32', shape: [4, 5] });
  const [out] = emitTrace(b0, tr, ['a', 'b']);
  b0.alias(out, 'y');
  b0.addOutput({ name: 'y', dtype: 'float32', shape: null });
  const exported = new TextDecoder('latin1').decode(b0.serialize());
  assert.doesNotMatch(exported, /FusedMatMul|com\.microsoft/);
  assert.match(exported, /Transpose/);
});

/** One pre-norm residual MLP block over tokens (ViT's MLP half: LayerNorm, Linear, GELU, Linear). */
class Block extends nn.Module {
  ln: nn.LayerNorm;
  fc1: nn.Linear;
  fc2: nn.Linear;
  constructor(width: number) {
    super();
    this.ln = new nn.LayerNorm(width);
    this.fc1 = new nn.Linear(width, 4 * width);
    this.fc2 = new nn.Linear(4 * width, width);
  }
  forward(x: Tensor): Tensor {
    return F.add(x, this.fc2.forward(F.gelu(this.fc1.forward(this.ln.forward(x)))));
  }
}

/** Six blocks, the mean over tokens, a linear head. */
function tower(width: number): (x: Tensor) => Tensor {
  const blocks = new nn.Sequential(...Array.from({ length: 6 }, () => new Block(width)));
  const head = new nn.Linear(width, 10);
  return (x) => head.forward(F.mean(blocks.forward(x), [1]));
}

test("a training step computes each layer's weight gradients as the backward passes it, and keeps no GELU or layer norm output", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'graft-step-memory-'));
  try {
    const net = tower(16);
    const x = tensor(Float32Array.from(deterministicInput([4, 32, 16], 7)), [4, 32, 16]);
    const oneHot = new Float32Array(40);
    for (let i = 0; i < 4; i++) oneHot[i * 10 + i] = 1;
    setRuntimeOptions({ profilePrefix: join(dir, 'step') });
    const loss = F.neg(F.mean(F.sum(F.mul(F.logSoftmax(net(x), 1), tensor(oneHot, [4, 10])), 1)));
    await loss.backward();
    setRuntimeOptions({ profilePrefix: null });
    await releaseSessions();

    const run = readStepMemory(dir);
    const backwardFrom = run.nodes.findIndex((n) => n.op === 'LogSoftmax');
    assert.ok(backwardFrom > 0, 'the profile has the loss');
    const backwardLength = run.nodes.length - backwardFrom;
    const kept = (op: string) => run.tensors.filter((t) => t.op === op && t.madeAt < backwardFrom && t.lastReadAt >= backwardFrom).map((t) => t.name);
    assert.deepEqual(kept('Gelu'), [], 'forward GELU outputs read by the backward');
    assert.deepEqual(kept('LayerNormalization'), [], 'forward layer norm outputs read by the backward');
    // Recomputed, not dropped: the backward runs its own layer norms.
    assert.equal(run.nodes.slice(backwardFrom).filter((n) => n.op === 'LayerNormalization').length, 6);
    // Every intermediate of the backward dies within a block or two of being made: a gradient left
    // for the end of the step keeps what it reads alive through the whole backward.
    const longLived = run.tensors.filter((t) => t.madeAt >= backwardFrom && t.lastReadAt < run.nodes.length && t.lastReadAt - t.madeAt > backwardLength / 3);
    assert.deepEqual(longLived.map((t) => `${t.node} (${t.op}), made at ${t.madeAt}, last read at ${t.lastReadAt}`), [],
      `backward tensors alive for more than a third of the backward's ${backwardLength} nodes`);
  } finally {
    setRuntimeOptions({ profilePrefix: null });
    rmSync(dir, { recursive: true, force: true });
  }
});
