// The inspection's similarity search: blocked matrix products in ONNX Runtime find the same
// neighbours and cross-class pairs as comparing every pair of rows directly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Runtime } from '../src/runtime/runtime.ts';
import { normalizeRows, similarity } from '../src/ui/similarity.ts';

function rows(n: number, d: number, seed: number): Float32Array {
  const x = new Float32Array(n * d);
  let s = seed;
  for (let i = 0; i < x.length; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    x[i] = s / 2 ** 32 - 0.5;
  }
  return x;
}

test('neighbours and near-duplicate pairs equal a direct comparison of every pair, across uneven blocks', async () => {
  const n = 301;
  const d = 24;
  const x = rows(n, d, 7);
  // Near-copies of a few rows under other labels, one exact copy, and a near-copy under the same label (not a pair).
  for (const [from, to] of [[3, 151], [10, 299], [42, 43], [60, 63]]) for (let j = 0; j < d; j++) x[to * d + j] = x[from * d + j] * 1.5 + (to === 43 ? 0 : 0.01);
  const labels = Array.from({ length: n }, (_, i) => i % 3);
  const unit = normalizeRows(x, n, d);
  const runtime = new Runtime({ executor: 'workers' });
  try {
    const k = 5;
    const got = await similarity(unit, n, d, labels, { k, pairThreshold: 0.97, chunk: 64, maxPairs: 100, runtime });
    const dot = (i: number, j: number) => {
      let s = 0;
      for (let t = 0; t < d; t++) s += unit[i * d + t] * unit[j * d + t];
      return s;
    };
    let agreeing = 0;
    for (let i = 0; i < n; i++) {
      const want = Array.from({ length: n }, (_, j) => j).filter((j) => j !== i).sort((a, b) => dot(i, b) - dot(i, a)).slice(0, k);
      const mine = [...got.neighbours.subarray(i * k, (i + 1) * k)];
      // Ties in float32 may order differently; the similarities must match.
      mine.forEach((j, p) => assert.ok(Math.abs(dot(i, j) - dot(i, want[p])) < 1e-5, `row ${i}, neighbour ${p}`));
      if (mine.join() === want.join()) agreeing++;
    }
    assert.ok(agreeing > n * 0.95);
    const pairs = got.pairs.map((p) => `${p.a}-${p.b}`).sort();
    assert.deepEqual(pairs, ['10-299', '3-151', '42-43']);
    assert.ok(got.pairs.every((p, i) => i === 0 || p.similarity <= got.pairs[i - 1].similarity));
    const capped = await similarity(unit, n, d, labels, { k, pairThreshold: 0.97, chunk: 64, maxPairs: 2, runtime });
    assert.deepEqual(capped.pairs.map((p) => `${p.a}-${p.b}`), got.pairs.slice(0, 2).map((p) => `${p.a}-${p.b}`));
  } finally {
    await runtime.close();
  }
});
