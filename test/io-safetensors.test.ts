import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readSafetensors, readSafetensorsBuffer, readSafetensorsMetadata, writeSafetensors } from '../src/formats/safetensors.ts';
import { floatToBfloat16, floatToHalf } from '../src/formats/half-float.ts';
import type { StateDict } from '../src/nn/state-dict.ts';

const FIXTURES = fileURLToPath(new URL('./fixtures/io', import.meta.url));
type Expected = Record<string, { shape: number[]; dtype: string; values: number[] }>;
const EXPECTED: Expected = JSON.parse(readFileSync(join(FIXTURES, 'expected.json'), 'utf8'));
// The fixture holds every tensor except the transposed view (safetensors stores contiguous data).
const { transposed: _, ...CONTIGUOUS } = EXPECTED;

function assertMatches(sd: StateDict, expected: Expected): void {
  assert.deepEqual([...sd.keys()], Object.keys(expected));
  for (const [key, want] of Object.entries(expected)) {
    const t = sd.get(key)!;
    assert.deepEqual(t.shape, want.shape, key);
    assert.equal(t.sourceDtype, want.dtype, key);
    const isFloat = t.dtype === 'float32';
    assert.deepEqual(Array.from(t.data as ArrayLike<number | bigint>, Number), want.values.map((v) => (isFloat ? Math.fround(v) : v)), key);
  }
}

/** A safetensors file from a header object (or raw header text) and data bytes. */
function file(header: unknown, data = new Uint8Array(0), declaredLength?: bigint): Uint8Array {
  const json = Buffer.from(typeof header === 'string' ? header : JSON.stringify(header));
  const head = Buffer.alloc(8);
  head.writeBigUInt64LE(declaredLength ?? BigInt(json.length));
  return Buffer.concat([head, json, data]);
}

test('reads a safetensors file as PyTorch wrote it, with its metadata', async () => {
  assertMatches(await readSafetensors(join(FIXTURES, 'tiny.safetensors')), CONTIGUOUS);
  assert.deepEqual(readSafetensorsMetadata(await readFile(join(FIXTURES, 'tiny.safetensors')), 'tiny'), { format: 'pt' });
});

test('header lengths beyond the file, too large or too small are refused', () => {
  const ok = { w: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } };
  assert.throws(() => readSafetensorsBuffer(new Uint8Array(5), 'short.st'), {
    message: 'Cannot read "short.st": truncated or corrupt: the safetensors header length needs 8 bytes at offset 0 but the data ends at 5',
  });
  assert.throws(() => readSafetensorsBuffer(file(ok, new Uint8Array(4), 1000n), 'long.st'), {
    message: /^Cannot read "long\.st": safetensors header length is 1000 bytes but the file has only \d+ after it \(truncated, or not a safetensors file\)$/,
  });
  assert.throws(() => readSafetensorsBuffer(file(ok, new Uint8Array(4), 2n ** 64n - 1n), 'max.st'), {
    message: /^Cannot read "max\.st": safetensors header length is 18446744073709551615 bytes/,
  });
  assert.throws(() => readSafetensorsBuffer(file('{}', new Uint8Array(0), 0n), 'zero.st'), {
    message: 'Cannot read "zero.st": safetensors header length is 0, too short for a JSON object',
  });
  assert.throws(() => readSafetensorsBuffer(file('{"w": ', new Uint8Array(4)), 'json.st'), {
    message: /^Cannot read "json\.st": safetensors header is not valid UTF-8 JSON \(/,
  });
  assert.throws(() => readSafetensorsBuffer(file('[1,2]'), 'array.st'), { message: 'Cannot read "array.st": safetensors header is not a JSON object' });
});

test('offsets, sizes and dtypes are checked against the header and the data', () => {
  const data = new Uint8Array(8);
  assert.throws(() => readSafetensorsBuffer(file({ w: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }, data), 'a.st'), {
    message: 'Cannot read "a.st": safetensors entry "w" ends at byte 16 of the data but the data has 8 bytes (truncated?)',
  });
  assert.throws(() => readSafetensorsBuffer(file({ w: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, data), 'b.st'), {
    message: 'Cannot read "b.st": safetensors entry "w" has 8 bytes but float32 shape [3] needs 12',
  });
  assert.throws(() => readSafetensorsBuffer(file({ w: { dtype: 'F32', shape: [1], data_offsets: [8, 4] } }, data), 'c.st'), {
    message: 'Cannot read "c.st": safetensors entry "w" has data_offsets [8,4]; expected [begin, end] with begin <= end',
  });
  assert.throws(() => readSafetensorsBuffer(file({ w: { dtype: 'C64', shape: [1], data_offsets: [0, 8] } }, data), 'd.st'), {
    message: 'Cannot read "d.st": safetensors entry "w" has dtype "C64"; expected one of F32, F16, BF16, F64, I64, I32, I16, I8, U8, BOOL',
  });
  assert.throws(() => readSafetensorsBuffer(file({ w: { dtype: 'F32', shape: [-1], data_offsets: [0, 4] } }, data), 'e.st'), {
    message: 'Cannot read "e.st": safetensors entry "w" has shape [-1]; expected non-negative integers',
  });
});

test('writeSafetensors round-trips, keeping stored dtypes, atomically', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'graft-io-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const sd = await readSafetensors(join(FIXTURES, 'tiny.safetensors'));
  const path = join(dir, 'out.safetensors');
  await writeSafetensors(path, sd, { format: 'pt', by: 'graft' });
  assertMatches(await readSafetensors(path), CONTIGUOUS);
  const bytes = await readFile(path);
  assert.deepEqual(readSafetensorsMetadata(bytes, path), { format: 'pt', by: 'graft' });
  assert.equal(Number(bytes.readBigUInt64LE(0)) % 8, 0, 'data starts 8-byte aligned');
  assert.deepEqual(await readdir(dir), ['out.safetensors']);
});

test('float16 and bfloat16 encoding rounds to nearest even like PyTorch', () => {
  assert.equal(floatToHalf(0.1), 0x2e66);
  assert.equal(floatToHalf(-2), 0xc000);
  assert.equal(floatToHalf(65504), 0x7bff);
  assert.equal(floatToHalf(65520), 0x7c00); // rounds up to infinity
  assert.equal(floatToHalf(2 ** -24), 0x0001); // smallest subnormal
  assert.equal(floatToHalf(2 ** -25), 0x0000); // a tie, to even
  assert.equal(floatToHalf(1 + 2 ** -11), 0x3c00); // a tie, to even
  assert.equal(floatToHalf(1 + 3 * 2 ** -11), 0x3c02);
  assert.ok((floatToHalf(NaN) & 0x7fff) > 0x7c00);
  assert.equal(floatToBfloat16(1), 0x3f80);
  assert.equal(floatToBfloat16(3.14159), 0x4049);
  assert.equal(floatToBfloat16(-Infinity), 0xff80);
  assert.ok((floatToBfloat16(NaN) & 0x7fff) > 0x7f80);
});
