/**
 * Hostile checkpoints: each is made by test/support/hostile-weights.ts, read in a child process,
 * and must fail with a clear error quickly and without the memory its claims would take.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readWeightsFile } from '../src/formats/weights-file.ts';
import { readSafetensorsBuffer, encodeSafetensors } from '../src/formats/safetensors.ts';
import { unpickle } from '../src/formats/pickle.ts';
import { UnsafePickleError } from '../src/formats/errors.ts';
import { StateDictError } from '../src/nn/module.ts';
import { createModel } from '../src/models/registry.ts';
import { specOf, type StateDict, type TensorSpec } from '../src/nn/state-dict.ts';
import { PROTOCOL_0_EXPLOIT, checkpoint, f32, hugeIntegerPickle, safetensorsFile } from './support/hostile-weights.ts';
import { readInChild } from './support/read-in-child.ts';

/** Well above a child's own footprint (about 100 MiB), far below what any of these files claims. */
const MAX_RSS_MIB = 300;
const MAX_MS = 5000;

async function tempDir(t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'graft-hostile-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** A two-tensor model: what the hostile checkpoints are loaded against. */
const MODEL: [string, TensorSpec][] = [
  ['fc.weight', { dtype: 'float32', shape: [2, 2] }],
  ['fc.bias', { dtype: 'float32', shape: [2] }],
];

async function writeCase(dir: string, name: string, bytes: Uint8Array): Promise<{ file: string; expected: string }> {
  const file = join(dir, name);
  const expected = join(dir, `${name}.expected.json`);
  await writeFile(file, bytes);
  await writeFile(expected, JSON.stringify(MODEL));
  return { file, expected };
}

function assertBounded(result: { ms: number; maxRssMiB: number }, what: string): void {
  assert.ok(result.maxRssMiB < MAX_RSS_MIB, `${what}: peak RSS ${result.maxRssMiB} MiB, expected under ${MAX_RSS_MIB}`);
  assert.ok(result.ms < MAX_MS, `${what}: took ${result.ms} ms, expected under ${MAX_MS}`);
}

test('a pickle holding a megabyte-long integer is refused at once, not decoded quadratically', async (t) => {
  const dir = await tempDir(t);
  const { file } = await writeCase(dir, 'long.pkl', hugeIntegerPickle(2 ** 20));
  const result = readInChild('unpickle', file, undefined, 30_000);
  assert.equal(result.error, `Cannot read "${file}": malformed pickle at offset 2: a 1048576-byte integer; a checkpoint holds none wider than 10 bytes (80 bits)`);
  assertBounded(result, 'LONG4 of 1 MiB');
  // Integers up to 80 bits (the legacy format's magic number) still read.
  assert.equal(unpickle(Uint8Array.from([0x80, 2, 0x8a, 10, ...new Array(9).fill(0), 1, 0x2e]), { file: 'x' }).value, 1n << 72n);
});

test('a stride-0 tensor is compared with the model before it is expanded', async (t) => {
  const dir = await tempDir(t);
  // 535 bytes that claim 2^28 float32 elements (1 GiB) from a one-element storage.
  const bytes = checkpoint(
    [{ key: 'classifier.3.weight', storageClass: 'FloatStorage', storageKey: '0', storageNumel: 1, shape: [2 ** 14, 2 ** 14], stride: [0, 0] }],
    [{ name: '0', data: f32(1) }],
  );
  const { file } = await writeCase(dir, 'stride0.pth', bytes);
  const result = readInChild('model', file, 'mobilenet_v3_small');
  assert.match(result.error ?? '', /^Error loading state dict from .*stride0\.pth:\n {2}missing key: features\.0\.0\.weight\n/);
  assert.match(result.error ?? '', /\n {2}shape mismatch for classifier\.3\.weight: the model has \[3,1024\], .* has \[16384,16384\]/);
  assertBounded(result, 'stride 0 against mobilenet_v3_small');
});

test('a stride-0 tensor of 2^60 elements is refused by size, without a model to compare with', async (t) => {
  const dir = await tempDir(t);
  const bytes = checkpoint(
    [{ key: 'w', storageClass: 'FloatStorage', storageKey: '0', storageNumel: 1, shape: [2 ** 30, 2 ** 30], stride: [0, 0] }],
    [{ name: '0', data: f32(1) }],
  );
  const { file } = await writeCase(dir, 'huge.pth', bytes);
  const result = readInChild('weights', file);
  assert.equal(result.error, `Cannot read "${file}": tensor "w" of shape [1073741824, 1073741824] takes the checkpoint to ${2 ** 62} bytes, more than ${2 ** 32}, the most graft reads from one checkpoint`);
  assertBounded(result, '2^60 elements');
});

test('a zip bomb behind a small tensor is refused before it is inflated', async (t) => {
  const dir = await tempDir(t);
  // 1 GiB of zeros in about 1 MB of deflate, declared honestly as the storage of a 2x2 tensor.
  const honest = checkpoint(
    [
      { key: 'fc.weight', storageClass: 'FloatStorage', storageKey: '0', storageNumel: 2 ** 28, shape: [2, 2], stride: [2, 1] },
      { key: 'fc.bias', storageClass: 'FloatStorage', storageKey: '1', storageNumel: 2, shape: [2], stride: [1] },
    ],
    [{ name: '0', zeros: 2 ** 30 }, { name: '1', data: f32(0, 0) }],
  );
  assert.ok(honest.length < 1.1e6, `the bomb is ${honest.length} bytes`);
  const a = await writeCase(dir, 'bomb.pth', honest);
  const result = readInChild('weights', a.file, a.expected);
  assert.equal(
    result.error,
    `Cannot read "${a.file}": storage "0" (268435456 float32 elements) takes the checkpoint to 1073741824 bytes, more than 48, what the model's state dict can need at 8 bytes an element`,
  );
  assertBounded(result, 'declared 1 GiB storage');

  // The same bytes behind a storage that declares its 4 elements: the entry is bounded by them.
  const lying = checkpoint(
    [
      { key: 'fc.weight', storageClass: 'FloatStorage', storageKey: '0', storageNumel: 4, shape: [2, 2], stride: [2, 1] },
      { key: 'fc.bias', storageClass: 'FloatStorage', storageKey: '1', storageNumel: 2, shape: [2], stride: [1] },
    ],
    [{ name: '0', zeros: 2 ** 30 }, { name: '1', data: f32(0, 0) }],
  );
  const b = await writeCase(dir, 'lying.pth', lying);
  const second = readInChild('weights', b.file);
  assert.equal(second.error, `Cannot read "${b.file}": storage "0" holds 4 float32 elements (16 bytes) but archive/data/0 has 1073741824 bytes`);
  assertBounded(second, 'storage entry larger than its declared elements');
});

test('a zip-bombed data.pkl is refused before it is inflated', async (t) => {
  const dir = await tempDir(t);
  const { zipArchive } = await import('./support/hostile-weights.ts');
  const { file } = await writeCase(dir, 'pkl-bomb.pth', zipArchive([{ name: 'archive/data.pkl', zeros: 2 ** 30 }]));
  const result = readInChild('weights', file);
  assert.equal(result.error, `Cannot read "${file}": zip entry "archive/data.pkl" claims 1073741824 bytes; what is read from it can need at most 16777216`);
  assertBounded(result, 'deflated data.pkl of 1 GiB');
});

const tile = (entries: Record<string, [number, number]>) =>
  JSON.stringify(Object.fromEntries(Object.entries(entries).map(([k, o]) => [k, { dtype: 'F32', shape: [(o[1] - o[0]) / 4], data_offsets: o }])));

test('safetensors refuses overlapping offsets, duplicate keys, gaps and trailing bytes, as the reference implementation', () => {
  const data = f32(1, 2, 3, 4);
  assert.equal(readSafetensorsBuffer(safetensorsFile(tile({ a: [0, 8], b: [8, 16] }), data), 'ok.safetensors').size, 2);
  assert.throws(() => readSafetensorsBuffer(safetensorsFile(tile({ a: [0, 8], b: [4, 12], c: [12, 16] }), data), 'overlap.safetensors'), {
    message: 'Cannot read "overlap.safetensors": safetensors entries "a" (bytes 0..8) and "b" (bytes 4..12) overlap',
  });
  const twice = '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"a":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}}';
  assert.throws(() => readSafetensorsBuffer(safetensorsFile(twice, data), 'twice.safetensors'), {
    message: 'Cannot read "twice.safetensors": safetensors header names "a" twice',
  });
  // A key that appears inside a value (here in metadata) is not a second key.
  const nested = '{"__metadata__":{"a":"x"},"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}';
  assert.equal(readSafetensorsBuffer(safetensorsFile(nested, data), 'nested.safetensors').size, 1);
  assert.throws(() => readSafetensorsBuffer(safetensorsFile(tile({ a: [0, 4], b: [8, 16] }), data), 'gap.safetensors'), {
    message: 'Cannot read "gap.safetensors": safetensors data has a gap: bytes 4..8 belong to no tensor (before "b")',
  });
  assert.throws(() => readSafetensorsBuffer(safetensorsFile(tile({ a: [0, 8] }), data), 'tail.safetensors'), {
    message: 'Cannot read "tail.safetensors": safetensors data has 8 bytes after the last tensor (its tensors end at byte 8 of 16)',
  });
  // Zero-size tensors take no bytes and may sit anywhere in the tiling.
  const empty = JSON.stringify({ e: { dtype: 'F32', shape: [0], data_offsets: [8, 8] }, a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [2], data_offsets: [8, 16] } });
  assert.equal(readSafetensorsBuffer(safetensorsFile(empty, data), 'empty.safetensors').size, 3);
});

test('a protocol-0 pickle is refused as the pickle it is, and junk as no weights file, not as broken safetensors', async (t) => {
  const dir = await tempDir(t);
  const exploit = join(dir, 'exploit.pth');
  await writeFile(exploit, PROTOCOL_0_EXPLOIT);
  await assert.rejects(readWeightsFile(exploit), (e: unknown) => e instanceof UnsafePickleError && e.global === 'os.system' && /references os\.system/.test(e.message));
  const junk = join(dir, 'junk.pth');
  await writeFile(junk, 'hello, this is not a model\n');
  await assert.rejects(readWeightsFile(junk), {
    message: `Cannot read "${junk}": not a weights file: expected a PyTorch checkpoint (a zip archive or a pickle) or safetensors (an 8-byte header length, then a JSON header)`,
  });
  // A safetensors header of 0x180 bytes: its first byte is 0x80, as a pickle's PROTO is.
  const sd: StateDict = new Map([['w', { dtype: 'float32', shape: [2], data: Float32Array.of(1, 2) }]]);
  const headerWith = (note: string) => JSON.stringify({ __metadata__: { note }, w: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } });
  const header = headerWith('x'.repeat(0x180 - headerWith('').length));
  assert.equal(Buffer.byteLength(header), 0x180);
  const st = join(dir, 'low-byte-0x80.safetensors');
  await writeFile(st, safetensorsFile(header, f32(1, 2)));
  assert.deepEqual([...(await readWeightsFile(st)).get('w')!.data], [...sd.get('w')!.data]);
});

test('a dtype mismatch is reported as one, before reading, with both dtypes and equal shapes', async (t) => {
  const dir = await tempDir(t);
  const bytes = checkpoint(
    [
      { key: 'fc.weight', storageClass: 'LongStorage', storageKey: '0', storageNumel: 4, shape: [2, 2], stride: [2, 1] },
      { key: 'fc.bias', storageClass: 'FloatStorage', storageKey: '1', storageNumel: 2, shape: [2], stride: [1] },
    ],
    [{ name: '0', data: new Uint8Array(32) }, { name: '1', data: f32(0, 0) }],
  );
  const file = join(dir, 'ints.pth');
  await writeFile(file, bytes);
  await assert.rejects(readWeightsFile(file, { expected: new Map(MODEL) }), (e: unknown) => {
    assert.ok(e instanceof StateDictError);
    assert.equal(e.message, `Error loading state dict from ${file}:\n  dtype mismatch for fc.weight: the model has float32, ${file} has int64`);
    return true;
  });
});

test('a DataParallel checkpoint (module. on every key) loads into the model, saying the prefix was removed', async (t) => {
  const dir = await tempDir(t);
  const source = await createModel('mobilenet_v3_small', { weights: null, numClasses: 3 });
  const prefixed: StateDict = new Map([...source.stateDict()].map(([k, v]) => [`module.${k}`, v]));
  const file = join(dir, 'data-parallel.safetensors');
  await writeFile(file, Buffer.concat(encodeSafetensors(prefixed)));
  const target = await createModel('mobilenet_v3_small', { weights: null, numClasses: 3 });
  const notes: string[] = [];
  const loaded = await readWeightsFile(file, { expected: specOf(target.stateDict()), onNote: (m) => notes.push(m) });
  assert.deepEqual(notes, [`"${file}" was saved from a DataParallel model: removed the prefix "module." from its ${prefixed.size} keys`]);
  target.loadStateDict(loaded, { source: file });
  const w = 'classifier.3.weight';
  assert.deepEqual(target.stateDict().get(w)!.data, source.stateDict().get(w)!.data);
  // Through createModel (what `--weights file` does); the note goes to stderr there.
  const warn = t.mock.method(console, 'warn', () => {});
  await createModel('mobilenet_v3_small', { weights: file, numClasses: 3 });
  assert.match(String(warn.mock.calls[0]?.arguments[0]), /^graft: ".*data-parallel\.safetensors" was saved from a DataParallel model/);
  // Without a model to match, keys are names and stay as they are.
  assert.ok([...(await readWeightsFile(file)).keys()].every((k) => k.startsWith('module.')));
});
