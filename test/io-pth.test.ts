import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readPth, readPthBuffer, writePth } from '../src/formats/pth.ts';
import { unpickle } from '../src/formats/pickle.ts';
import type { StateDict } from '../src/nn/state-dict.ts';

const FIXTURES = fileURLToPath(new URL('./fixtures/io', import.meta.url));
const fixture = (name: string) => join(FIXTURES, name);
type Expected = Record<string, { shape: number[]; dtype: string; values: number[] }>;
const EXPECTED: Expected = JSON.parse(readFileSync(fixture('expected.json'), 'utf8'));

/** Every key, in order, with PyTorch's shape, stored dtype and values (float32-exact). */
function assertMatchesExpected(sd: StateDict, expected: Expected = EXPECTED): void {
  assert.deepEqual([...sd.keys()], Object.keys(expected));
  for (const [key, want] of Object.entries(expected)) {
    const t = sd.get(key)!;
    assert.deepEqual(t.shape, want.shape, key);
    assert.equal(t.sourceDtype, want.dtype, key);
    const isFloat = ['float32', 'float64', 'float16', 'bfloat16'].includes(want.dtype);
    assert.equal(t.dtype, isFloat ? 'float32' : 'int64', key);
    const got = Array.from(t.data as ArrayLike<number | bigint>, Number);
    assert.deepEqual(got, want.values.map((v) => (isFloat ? Math.fround(v) : v)), key);
  }
}

test('reads the zip format (PyTorch >= 1.6) as PyTorch wrote it', async () => {
  assertMatchesExpected(await readPth(fixture('tiny.pth')));
});

test('reads the legacy format (before 1.6) as PyTorch wrote it', async () => {
  assertMatchesExpected(await readPth(fixture('tiny_legacy.pth')));
});

test('tensors sharing a storage are independent copies', async () => {
  const sd = await readPth(fixture('tiny.pth'));
  const a = sd.get('shared.a')!.data as Float32Array;
  a[2] = 1000; // shared.b views elements 8..11 of the same storage, shared.a elements 2..7
  assert.deepEqual(Array.from(sd.get('shared.b')!.data as Float32Array), [4, 4.5, 5, 5.5]);
});

test('a wrapping checkpoint yields its "model" entry; the DataParallel prefix stays unless asked', async () => {
  const kept = await readPth(fixture('wrapped.pth'));
  assert.deepEqual([...kept.keys()], ['module.conv1.weight', 'module.bn1.weight', 'module.bn1.bias']);
  const stripped = await readPth(fixture('wrapped.pth'), { stripPrefix: 'module.' });
  assert.deepEqual([...stripped.keys()], ['conv1.weight', 'bn1.weight', 'bn1.bias']);
  const byName = await readPth(fixture('wrapped.pth'), { entry: 'model' });
  assert.equal(byName.size, 3);
  await assert.rejects(readPth(fixture('wrapped.pth'), { entry: 'optimizer' }), {
    message: /no state dict under "optimizer"; the checkpoint has: epoch, best_acc1, arch, model/,
  });
});

test('deflated archives (re-zipped by other tools) read the same', async () => {
  const { zipSync } = await import('fflate');
  const { readZipDirectory, readZipEntry } = await import('../src/formats/zip.ts');
  const bytes = await readFile(fixture('tiny.pth'));
  const files: Record<string, Uint8Array> = {};
  for (const entry of readZipDirectory(bytes, 'tiny.pth').values()) files[entry.name] = readZipEntry(bytes, entry, 'tiny.pth', entry.size);
  assertMatchesExpected(readPthBuffer(zipSync(files, { level: 6 }), 'deflated.pth'));
});

test('a truncated zip checkpoint names the file and what is missing', async () => {
  const bytes = await readFile(fixture('tiny.pth'));
  assert.throws(() => readPthBuffer(bytes.subarray(0, bytes.length - 100), 'cut.pth'), {
    message: /^Cannot read "cut\.pth": no zip end-of-central-directory record: the file is truncated or not a zip archive$/,
  });
  // Central directory intact but the data it points at cut away.
  const hole = Buffer.from(bytes);
  hole.fill(0, 100, 400);
  assert.throws(() => readPthBuffer(hole, 'hole.pth'), { message: /^Cannot read "hole\.pth": / });
});

test('a truncated legacy checkpoint names the storage and the sizes', async () => {
  const bytes = await readFile(fixture('tiny_legacy.pth'));
  assert.throws(() => readPthBuffer(bytes.subarray(0, bytes.length - 10), 'cut.pth'), {
    message: /^Cannot read "cut\.pth": truncated or corrupt: storage "\d+" \(\d+ \w+ elements\) needs \d+ bytes at offset \d+ but the data ends at \d+$/,
  });
  assert.throws(() => readPthBuffer(bytes.subarray(0, 700), 'cut.pth'), { message: /^Cannot read "cut\.pth": truncated or corrupt: / });
});

test('a legacy storage size beyond the file is refused before allocating', async () => {
  const bytes = Buffer.from(await readFile(fixture('tiny_legacy.pth')));
  let at = 0;
  for (let i = 0; i < 5; i++) at = unpickle(bytes, { file: 'x', start: at, persistentLoad: () => ({}) }).end;
  bytes.writeBigInt64LE(1n << 60n, at); // the first storage's element count
  assert.throws(() => readPthBuffer(bytes, 'huge.pth'), {
    message: /^Cannot read "huge\.pth": truncated or corrupt: storage "\d+" \(1152921504606846976 \w+ elements\) needs \d+ bytes/,
  });
});

test('a bad legacy magic number says what was expected', () => {
  // pickle.dumps(12345, protocol=2)
  const bytes = Uint8Array.from([0x80, 0x02, 0x4d, 0x39, 0x30, 0x2e]);
  assert.throws(() => readPthBuffer(bytes, 'magic.pth'), {
    message: 'Cannot read "magic.pth": bad magic number 12345; expected 0x1950a86a20f9469cfc6c of a legacy PyTorch checkpoint',
  });
  assert.throws(() => readPthBuffer(new TextEncoder().encode('hello'), 'text.pth'), {
    message: 'Cannot read "text.pth": not a PyTorch checkpoint: expected a zip archive (PyTorch >= 1.6) or a legacy pickle stream',
  });
});

test('a corrupt storage fails its CRC check', async () => {
  const bytes = Buffer.from(await readFile(fixture('tiny.pth')));
  // PyTorch 1.13 names the archive folder after the file: "tiny/data/0".
  const at = bytes.indexOf('tiny/data/0') + 'tiny/data/0'.length;
  const dataStart = Math.ceil(at / 64) * 64; // stored entries are 64-byte aligned
  bytes[dataStart + 3] ^= 0xff;
  assert.throws(() => readPthBuffer(bytes, 'flip.pth'), { message: /^Cannot read "flip\.pth": zip entry "tiny\/data\/0" is corrupt: CRC-32 [0-9a-f]{8}, expected [0-9a-f]{8}$/ });
});

test('writePth round-trips through readPth, keeping stored dtypes', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'graft-io-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const sd = await readPth(fixture('tiny.pth'));
  const path = join(dir, 'out.pth');
  await writePth(path, sd);
  assertMatchesExpected(await readPth(path));
  assert.deepEqual(await readdir(dir), ['out.pth'], 'no temp file is left behind');

  await writePth(path, sd, { keepSourceDtype: false });
  const widened = await readPth(path);
  assert.equal(widened.get('half.weight')!.sourceDtype, 'float32');
  assert.equal(widened.get('extra.u8')!.sourceDtype, 'int64');
});

test('writePth refuses values that do not fit the stored dtype, naming the key', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'graft-io-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const sd: StateDict = new Map([['mask', { dtype: 'int64', shape: [2], data: BigInt64Array.from([0n, 300n]), sourceDtype: 'uint8' }]]);
  const path = join(dir, 'bad.pth');
  await assert.rejects(writePth(path, sd), { message: 'Cannot store tensor "mask" as uint8: element 1 is 300, outside 0..255' });
  assert.deepEqual(await readdir(dir), [], 'a failed write leaves nothing');
  const wrongShape: StateDict = new Map([['w', { dtype: 'float32', shape: [2, 2], data: new Float32Array(3) }]]);
  await assert.rejects(writePth(path, wrongShape), { message: 'Tensor "w" has 3 elements but shape [2, 2] needs 4' });
});

test('a non-tensor entry in a state dict is named', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'graft-io-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  // {"w": 1.5}: a dict that is neither a state dict nor a wrapper of one.
  const pickle = Uint8Array.from([0x80, 0x02, 0x7d, 0x58, 1, 0, 0, 0, 0x77, 0x47, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0, 0x73, 0x2e]);
  const path = join(dir, 'notes.pth');
  const { encodeZip } = await import('../src/formats/zip.ts');
  await writeFile(path, Buffer.concat(encodeZip([{ name: 'archive/data.pkl', data: pickle }])));
  await assert.rejects(readPth(path), {
    message: `Cannot read "${path}": expected a state dict (a dict of tensors) or a checkpoint with a "state_dict" or "model" entry; found a dict with keys w, of which not tensors: "w" (1.5)`,
  });
});
