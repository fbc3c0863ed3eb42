// The TypeScript deterministic weights must equal scripts/deterministic.py bit for bit: the zoo
// goldens were produced in PyTorch with the Python side. Regenerate the fixture with
//   python3 scripts/deterministic.py test/fixtures/deterministic.json
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

import { deterministicInput, deterministicStateDict, hash01 } from './support/deterministic.ts';

interface Fixture {
  hash01: [number, number, number][];
  stateDict: { key: string; shape: number[]; dtype: 'float32' | 'int64'; indices: number[]; values: number[] }[];
  input: { shape: number[]; seed: number; indices: number[]; values: number[]; fsum: number };
}

const fixture = JSON.parse(
  readFileSync(new URL('./fixtures/deterministic.json', import.meta.url), 'utf8'),
) as Fixture;

test('hash01 matches the Python implementation', () => {
  for (const [i, seed, expected] of fixture.hash01) {
    assert.equal(hash01(i, seed), expected, `hash01(${i}, ${seed})`);
  }
});

test('deterministicStateDict matches the Python implementation bit for bit', () => {
  const sd = deterministicStateDict(fixture.stateDict.map((t) => [t.key, t.shape] as const));
  assert.deepEqual([...sd.keys()], fixture.stateDict.map((t) => t.key));
  for (const t of fixture.stateDict) {
    const got = sd.get(t.key)!;
    assert.equal(got.dtype, t.dtype, `${t.key}: dtype`);
    assert.deepEqual(got.shape, t.shape, `${t.key}: shape`);
    t.indices.forEach((j, n) => {
      const v = got.data[j];
      const actual = typeof v === 'bigint' ? Number(v) : v;
      assert.equal(actual, t.values[n], `${t.key}[${j}]`);
    });
  }
});

test('deterministicStateDict refuses a key it has no rule for', () => {
  assert.throws(
    () => deterministicStateDict([['layer.scale', [3]]]),
    /no rule for key 'layer\.scale' with shape \[3\]/,
  );
});

test('deterministicInput matches the Python implementation', () => {
  const { shape, seed, indices, values, fsum } = fixture.input;
  const x = deterministicInput(shape, seed);
  indices.forEach((j, n) => assert.equal(x[j], values[n], `input[${j}]`));
  let sum = 0;
  for (const v of x) sum += v;
  assert.ok(Math.abs(sum - fsum) < 1e-9, `sum ${sum} vs ${fsum}`);
});
