import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readPth } from '../src/formats/pth.ts';
import { PyDict, unpickle } from '../src/formats/pickle.ts';
import { UnsafePickleError } from '../src/formats/errors.ts';

const FIXTURES = fileURLToPath(new URL('./fixtures/io', import.meta.url));
/** What the malicious fixtures would create in the current folder if anything ran them. */
const MARKER = resolve('pwned-by-pickle.txt');

const bytes = (...parts: (number | string)[]) =>
  Uint8Array.from(parts.flatMap((p) => (typeof p === 'number' ? [p] : [...Buffer.from(p, 'latin1')])));
const refused = (global: string, file: string) => ({
  name: 'UnsafePickleError',
  message: `Refusing to load "${file}": it references ${global}, which a checkpoint never needs (graft does not execute code from files)`,
});

for (const [name, global] of [
  ['evil_raw.pth', 'os.system'], // a bare protocol-0 pickle
  ['evil_legacy.pth', 'posix.system'], // a legacy header, then pickle.dumps of an object whose __reduce__ is os.system
  ['evil_zip.pth', 'os.system'], // a zip checkpoint whose data.pkl calls os.system
] as const) {
  test(`${name}: a pickle calling ${global} is refused by name and never runs`, async () => {
    rmSync(MARKER, { force: true });
    const path = join(FIXTURES, name);
    await assert.rejects(readPth(path), refused(global, path));
    assert.equal(existsSync(MARKER), false, 'the command must never run');
  });
}

test('STACK_GLOBAL is held to the same allow-list', () => {
  // protocol 4: builtins.eval("print(1)")
  const evil = bytes(0x80, 4, 0x8c, 8, 'builtins', 0x8c, 4, 'eval', 0x93, 0x8c, 8, 'print(1)', 0x85, 0x52, 0x2e);
  assert.throws(() => unpickle(evil, { file: 'e.pth' }), refused('builtins.eval', 'e.pth'));
  const popen = bytes(0x80, 2, 'csubprocess\nPopen\n', 0x29, 0x52, 0x2e);
  assert.throws(() => unpickle(popen, { file: 'p.pth' }), (e) => e instanceof UnsafePickleError && e.global === 'subprocess.Popen');
  // Look-alikes of allowed names are not allowed.
  assert.throws(() => unpickle(bytes(0x80, 2, 'ctorch\nload\n', 0x2e), { file: 't.pth' }), refused('torch.load', 't.pth'));
  assert.throws(() => unpickle(bytes(0x80, 2, 'ctorch._utils\n_rebuild_tensor_v2x\n', 0x2e), { file: 't.pth' }), refused('torch._utils._rebuild_tensor_v2x', 't.pth'));
});

test('lengths are checked against the bytes available before anything is allocated', () => {
  // BINUNICODE claiming 4 GB, BINBYTES8 claiming 2^62 bytes.
  assert.throws(() => unpickle(bytes(0x80, 2, 0x58, 0xff, 0xff, 0xff, 0xff, 'abc'), { file: 'big.pth' }), {
    message: 'Cannot read "big.pth": truncated or corrupt: a string needs 4294967295 bytes at offset 7 but the data ends at 10',
  });
  const huge = bytes(0x80, 4, 0x8e, 0, 0, 0, 0, 0, 0, 0, 0x40, 'x');
  assert.throws(() => unpickle(huge, { file: 'big.pth' }), { message: 'Cannot read "big.pth": truncated or corrupt: bytes needs 4611686018427387904 bytes at offset 11 but the data ends at 12' });
  assert.throws(() => unpickle(bytes(0x80, 2, 0x4a, 1, 2), { file: 'cut.pth' }), {
    message: 'Cannot read "cut.pth": truncated or corrupt: an int needs 4 bytes at offset 3 but the data ends at 5',
  });
  assert.throws(() => unpickle(bytes(0x80, 2, 0x4e), { file: 'nostop.pth' }), { message: /a pickle opcode needs 1 bytes at offset 3/ });
});

test('malformed pickles fail with the offset and the problem', () => {
  assert.throws(() => unpickle(bytes(0x80, 2, 0x68, 5, 0x2e), { file: 'm.pth' }), {
    message: 'Cannot read "m.pth": malformed pickle at offset 2: memo entry 5 was never stored',
  });
  assert.throws(() => unpickle(bytes(0x80, 2, 0x2e), { file: 'm.pth' }), { message: 'Cannot read "m.pth": malformed pickle at offset 2: stack underflow' });
  assert.throws(() => unpickle(bytes(0x80, 2, 0x69, 0x2e), { file: 'm.pth' }), {
    message: "Cannot read \"m.pth\": malformed pickle at offset 2: unsupported opcode 0x69 ('i'), which torch.save does not write",
  });
  assert.throws(() => unpickle(bytes(0x80, 2, 0x4b, 1, 0x29, 0x52, 0x2e), { file: 'm.pth' }), {
    message: 'Cannot read "m.pth": malformed pickle at offset 5: 1 is not callable',
  });
  assert.throws(() => unpickle(bytes(0x80, 2, 0x4e, 0x51, 0x2e), { file: 'm.pth' }), {
    message: 'Cannot read "m.pth": malformed pickle at offset 3: a persistent id where none is expected',
  });
});

test('decodes the values a checkpoint holds', () => {
  // {"a": [1, -2, 70000, 2**70, 1.5, True, None, "é"]} via EMPTY_DICT, MARK, APPENDS, SETITEM, memo
  const long70 = [0x8a, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0x40];
  const value = unpickle(
    bytes(0x80, 2, 0x7d, 0x71, 0, 0x58, 1, 0, 0, 0, 'a', 0x5d, 0x28, 0x4b, 1, 0x4a, 0xfe, 0xff, 0xff, 0xff,
      0x4a, 0x70, 0x11, 0x01, 0x00, ...long70, 0x47, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0, 0x88, 0x4e, 0x8c, 2, 0xc3, 0xa9, 0x65, 0x73, 0x2e),
    { file: 'v.pth' },
  ).value;
  assert.ok(value instanceof PyDict);
  assert.deepEqual(value.items.get('a'), [1, -2, 70000, 2n ** 70n, 1.5, true, null, 'é']);
});
