/**
 * The zip container of PyTorch >= 1.6 checkpoints: a small central-directory reader (stored and
 * deflated entries, zip64) and a writer of stored entries aligned like PyTorch's own writer.
 * Every offset and size read from the file is checked against the file before it is used.
 */
import * as zlib from 'node:zlib';
import { inflateSync } from 'fflate';
import { cannotRead, truncated } from './errors.ts';

export interface ZipEntry {
  name: string;
  method: number;
  crc32: number;
  compressedSize: number;
  size: number;
  localHeaderOffset: number;
}

const EOCD = 0x06054b50;
const ZIP64_LOCATOR = 0x07064b50;
const ZIP64_EOCD = 0x06064b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;

export function isZip(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04;
}

/** Checked reads of little-endian fields, each naming what it reads. */
class Fields {
  readonly view: DataView;
  constructor(
    readonly bytes: Uint8Array,
    readonly file: string,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  check(offset: number, n: number, what: string): void {
    if (offset < 0 || offset + n > this.bytes.length) throw truncated(this.file, what, n, offset, this.bytes.length);
  }
  u16(offset: number): number {
    return this.view.getUint16(offset, true);
  }
  u32(offset: number): number {
    return this.view.getUint32(offset, true);
  }
  u64(offset: number, what: string): number {
    const value = this.view.getBigUint64(offset, true);
    if (value > BigInt(this.bytes.length)) throw cannotRead(this.file, `zip ${what} is ${value}, beyond the file's ${this.bytes.length} bytes (truncated?)`);
    return Number(value);
  }
}

/** All entries of the archive by name, from its central directory. */
export function readZipDirectory(bytes: Uint8Array, file: string): Map<string, ZipEntry> {
  const f = new Fields(bytes, file);
  const eocd = findEndOfCentralDirectory(f);
  let count = f.u16(eocd + 10);
  let size = f.u32(eocd + 12);
  let offset = f.u32(eocd + 16);
  if (count === 0xffff || size === 0xffffffff || offset === 0xffffffff) {
    ({ count, size, offset } = readZip64End(f, eocd));
  }
  f.check(offset, size, 'the zip central directory');
  const entries = new Map<string, ZipEntry>();
  let at = offset;
  for (let i = 0; i < count; i++) {
    f.check(at, 46, 'a zip central directory record');
    if (f.u32(at) !== CENTRAL) throw cannotRead(file, `zip central directory record ${i} at offset ${at} has a bad signature`);
    const nameLength = f.u16(at + 28);
    const extraLength = f.u16(at + 30);
    const commentLength = f.u16(at + 32);
    f.check(at + 46, nameLength + extraLength, 'a zip entry name');
    const entry: ZipEntry = {
      name: new TextDecoder().decode(bytes.subarray(at + 46, at + 46 + nameLength)),
      method: f.u16(at + 10),
      crc32: f.u32(at + 16),
      compressedSize: f.u32(at + 20),
      size: f.u32(at + 24),
      localHeaderOffset: f.u32(at + 42),
    };
    applyZip64Extra(f, entry, at + 46 + nameLength, extraLength);
    entries.set(entry.name, entry);
    at += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

function findEndOfCentralDirectory(f: Fields): number {
  // The record is 22 bytes plus a comment of at most 65535 bytes, at the very end.
  const last = f.bytes.length - 22;
  for (let at = last; at >= 0 && at >= last - 65535; at--) {
    if (f.u32(at) === EOCD) return at;
  }
  throw cannotRead(f.file, 'no zip end-of-central-directory record: the file is truncated or not a zip archive');
}

function readZip64End(f: Fields, eocd: number): { count: number; size: number; offset: number } {
  const locator = eocd - 20;
  f.check(locator, 20, 'the zip64 end-of-central-directory locator');
  if (f.u32(locator) !== ZIP64_LOCATOR) throw cannotRead(f.file, 'zip64 end-of-central-directory locator missing');
  const end = f.u64(locator + 8, 'zip64 end-of-central-directory offset');
  f.check(end, 56, 'the zip64 end-of-central-directory record');
  if (f.u32(end) !== ZIP64_EOCD) throw cannotRead(f.file, 'zip64 end-of-central-directory record has a bad signature');
  return {
    count: f.u64(end + 32, 'entry count'),
    size: f.u64(end + 40, 'central directory size'),
    offset: f.u64(end + 48, 'central directory offset'),
  };
}

/** Sizes and offsets that overflow 32 bits live in the zip64 extra field, in this order. */
function applyZip64Extra(f: Fields, entry: ZipEntry, start: number, length: number): void {
  for (let at = start; at + 4 <= start + length; ) {
    const id = f.u16(at);
    const size = f.u16(at + 2);
    if (at + 4 + size > start + length) break;
    if (id === 0x0001) {
      let p = at + 4;
      const take = (what: string) => {
        if (p + 8 > at + 4 + size) throw cannotRead(f.file, `zip64 extra field of "${entry.name}" is too short for ${what}`);
        const value = f.u64(p, `${what} of "${entry.name}"`);
        p += 8;
        return value;
      };
      if (entry.size === 0xffffffff) entry.size = take('size');
      if (entry.compressedSize === 0xffffffff) entry.compressedSize = take('compressed size');
      if (entry.localHeaderOffset === 0xffffffff) entry.localHeaderOffset = take('local header offset');
    }
    at += 4 + size;
  }
}

/**
 * The uncompressed bytes of `entry`, CRC-checked. Stored entries are views into `bytes`. An entry
 * larger than `maxSize` (what the caller can need from it) is refused before it is inflated:
 * deflate's own 1032:1 limit still lets a megabyte become a gigabyte.
 */
export function readZipEntry(bytes: Uint8Array, entry: ZipEntry, file: string, maxSize: number): Uint8Array {
  if (entry.size > maxSize) {
    throw cannotRead(file, `zip entry "${entry.name}" claims ${entry.size} bytes; what is read from it can need at most ${maxSize}`);
  }
  const f = new Fields(bytes, file);
  const header = entry.localHeaderOffset;
  f.check(header, 30, `the zip local header of "${entry.name}"`);
  if (f.u32(header) !== LOCAL) throw cannotRead(file, `zip local header of "${entry.name}" at offset ${header} has a bad signature`);
  const start = header + 30 + f.u16(header + 26) + f.u16(header + 28);
  f.check(start, entry.compressedSize, `zip entry "${entry.name}"`);
  const raw = bytes.subarray(start, start + entry.compressedSize);
  let data: Uint8Array;
  if (entry.method === 0) {
    if (entry.compressedSize !== entry.size) throw cannotRead(file, `stored zip entry "${entry.name}" has size ${entry.size} but ${entry.compressedSize} stored bytes`);
    data = raw;
  } else if (entry.method === 8) {
    // Deflate expands at most ~1032:1; a larger claim is corrupt, and is refused before allocating.
    if (entry.size > entry.compressedSize * 1032 + 1024) {
      throw cannotRead(file, `zip entry "${entry.name}" claims ${entry.size} bytes from ${entry.compressedSize} deflated bytes, more than deflate can produce`);
    }
    data = inflateSync(raw, { out: new Uint8Array(entry.size) });
    if (data.length !== entry.size) throw cannotRead(file, `zip entry "${entry.name}" inflates to ${data.length} bytes, not ${entry.size}`);
  } else {
    throw cannotRead(file, `zip entry "${entry.name}" uses compression method ${entry.method}; expected 0 (stored) or 8 (deflate)`);
  }
  const actual = crc32(data);
  if (actual !== entry.crc32) {
    throw cannotRead(file, `zip entry "${entry.name}" is corrupt: CRC-32 ${hex(actual)}, expected ${hex(entry.crc32)}`);
  }
  return data;
}

function hex(n: number): string {
  return n.toString(16).padStart(8, '0');
}

let crcTable: Uint32Array | undefined;

/** zlib's CRC-32 when Node has it (20.15+), else a table-driven one. */
export function crc32(data: Uint8Array): number {
  const native = (zlib as { crc32?: (data: Uint8Array) => number }).crc32;
  if (native) return native(data) >>> 0;
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (let i = 0; i < data.length; i++) c = crcTable[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** PyTorch aligns stored data to 64 bytes so it can be memory-mapped; so does graft. */
const ALIGNMENT = 64;
const LIMIT = 0xffffffff;

/**
 * A zip archive of stored (uncompressed) entries, as chunks in file order. Each entry's data
 * starts on a 64-byte boundary, padded with an extra field as PyTorch's writer does.
 */
export function encodeZip(entries: { name: string; data: Uint8Array }[]): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  let offset = 0;
  for (const { name, data } of entries) {
    const nameBytes = new TextEncoder().encode(name);
    const crc = crc32(data);
    let pad = (ALIGNMENT - ((offset + 30 + nameBytes.length) % ALIGNMENT)) % ALIGNMENT;
    if (pad > 0 && pad < 4) pad += ALIGNMENT; // an extra field needs 4 bytes of header
    if (offset + 30 + nameBytes.length + pad + data.length > LIMIT) {
      throw new RangeError(`The archive would exceed 4 GiB at entry "${name}"; graft does not write zip64 archives`);
    }
    const local = Buffer.alloc(30 + nameBytes.length + pad);
    local.writeUInt32LE(LOCAL, 0);
    writeCommonHeader(local, 4, crc, data.length, nameBytes.length, pad);
    local.set(nameBytes, 30);
    if (pad > 0) {
      local.writeUInt16LE(0x4246, 30 + nameBytes.length); // "FB", PyTorch's padding field id
      local.writeUInt16LE(pad - 4, 32 + nameBytes.length);
    }
    const record = Buffer.alloc(46 + nameBytes.length);
    record.writeUInt32LE(CENTRAL, 0);
    record.writeUInt16LE(20, 4); // made by: version 2.0
    writeCommonHeader(record, 6, crc, data.length, nameBytes.length, 0);
    record.writeUInt32LE(offset, 42);
    record.set(nameBytes, 46);
    chunks.push(local, data);
    central.push(record);
    offset += local.length + data.length;
  }
  const centralSize = central.reduce((n, c) => n + c.length, 0);
  if (offset + centralSize > LIMIT) throw new RangeError('The archive would exceed 4 GiB; graft does not write zip64 archives');
  const end = Buffer.alloc(22);
  end.writeUInt32LE(EOCD, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(centralSize, 12);
  end.writeUInt32LE(offset, 16);
  return [...chunks, ...central, end];
}

/** The fields local and central headers share, from "version needed" to "extra length". */
function writeCommonHeader(b: Buffer, at: number, crc: number, size: number, nameLength: number, extraLength: number): void {
  b.writeUInt16LE(20, at); // version needed: 2.0
  b.writeUInt16LE(0, at + 2); // flags
  b.writeUInt16LE(0, at + 4); // method: stored
  b.writeUInt16LE(0, at + 6); // time
  b.writeUInt16LE(0x21, at + 8); // date: 1980-01-01, for reproducible files
  b.writeUInt32LE(crc, at + 10);
  b.writeUInt32LE(size, at + 14);
  b.writeUInt32LE(size, at + 18);
  b.writeUInt16LE(nameLength, at + 22);
  b.writeUInt16LE(extraLength, at + 24);
}
