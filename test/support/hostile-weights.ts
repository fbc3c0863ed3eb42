/**
 * Hostile and broken weights files, made small and on the fly: pickles with huge integers,
 * checkpoints whose tensors claim more than their bytes (stride 0, zip bombs), a protocol-0
 * pickle that calls os.system, and safetensors files whose offsets lie.
 */
import * as zlib from 'node:zlib';
import { PickleWriter } from '../../src/formats/pickle-writer.ts';
import { crc32 } from '../../src/formats/zip.ts';

/** A protocol 2 pickle of one integer whose LONG4 encoding is `bytes` long. */
export function hugeIntegerPickle(bytes: number): Uint8Array {
  const p = new PickleWriter();
  p.op(0x80, 2, 0x8b); // PROTO 2, LONG4
  p.u32(bytes);
  p.raw(new Uint8Array(bytes).fill(0x5a));
  p.op(0x2e); // STOP
  return p.bytes();
}

/** `pickle.dumps(os.system("echo pwned"), protocol=0)` as a malicious .pth holds it. */
export const PROTOCOL_0_EXPLOIT = new TextEncoder().encode("cos\nsystem\n(S'echo pwned'\ntR.");

export interface TensorClaim {
  key: string;
  /** torch.<Class>Storage */
  storageClass: string;
  storageKey: string;
  /** Elements the storage declares. */
  storageNumel: number;
  shape: number[];
  stride: number[];
}

/** The data.pkl torch.save writes for an OrderedDict of tensors, with any shape, stride and storage size. */
export function stateDictPickle(tensors: TensorClaim[]): Uint8Array {
  const p = new PickleWriter();
  p.op(0x80, 2);
  p.global('collections', 'OrderedDict');
  p.op(0x29, 0x52, 0x28); // EMPTY_TUPLE, REDUCE, MARK
  for (const t of tensors) {
    p.string(t.key);
    p.global('torch._utils', '_rebuild_tensor_v2');
    p.op(0x28, 0x28); // MARK (arguments), MARK (persistent id)
    p.string('storage');
    p.global('torch', t.storageClass);
    p.string(t.storageKey);
    p.string('cpu');
    p.int(t.storageNumel);
    p.op(0x74, 0x51); // TUPLE, BINPERSID
    p.int(0);
    p.tuple(t.shape);
    p.tuple(t.stride);
    p.op(0x89); // requires_grad False
    p.global('collections', 'OrderedDict');
    p.op(0x29, 0x52, 0x74, 0x52); // OrderedDict(), TUPLE, REDUCE
  }
  p.op(0x75, 0x2e); // SETITEMS, STOP
  return p.bytes();
}

export interface ZipPart {
  name: string;
  /** Stored as is. */
  data?: Uint8Array;
  /** Deflated, without ever holding them: this many zero bytes. */
  zeros?: number;
}

const ZERO_CHUNK = 2 ** 20;

/**
 * Raw deflate of `n` zero bytes (n a multiple of 1 MiB) from one compressed megabyte repeated:
 * each piece ends on a sync flush, so they concatenate, and a final empty block closes the stream.
 */
function deflatedZeros(n: number): { deflated: Uint8Array; crc: number } {
  const zeros = new Uint8Array(ZERO_CHUNK);
  const piece = zlib.deflateRawSync(zeros, { level: 9, finishFlush: zlib.constants.Z_SYNC_FLUSH });
  const count = n / ZERO_CHUNK;
  const deflated = new Uint8Array(piece.length * count + 2);
  for (let i = 0; i < count; i++) deflated.set(piece, i * piece.length);
  deflated.set([0x03, 0x00], piece.length * count); // BFINAL, fixed Huffman, end of block
  const crcOf = (zlib as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;
  let crc = 0;
  if (crcOf) for (let i = 0; i < count; i++) crc = crcOf(zeros, crc);
  return { deflated, crc };
}

/** A zip archive of stored and deflated entries, as a PyTorch checkpoint or a zip bomb needs. */
export function zipArchive(parts: ZipPart[]): Uint8Array {
  const chunks: Uint8Array[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const part of parts) {
    const name = Buffer.from(part.name);
    const { bytes, crc, size, method } = part.data
      ? { bytes: part.data, crc: crc32(part.data), size: part.data.length, method: 0 }
      : (() => {
          const z = deflatedZeros(part.zeros!);
          return { bytes: z.deflated, crc: z.crc, size: part.zeros!, method: 8 };
        })();
    const header = (b: Buffer, at: number) => {
      b.writeUInt16LE(20, at);
      b.writeUInt16LE(method, at + 4);
      b.writeUInt32LE(crc >>> 0, at + 10);
      b.writeUInt32LE(bytes.length, at + 14);
      b.writeUInt32LE(size, at + 18);
      b.writeUInt16LE(name.length, at + 22);
    };
    const local = Buffer.alloc(30 + name.length);
    local.writeUInt32LE(0x04034b50, 0);
    header(local, 4);
    name.copy(local, 30);
    const record = Buffer.alloc(46 + name.length);
    record.writeUInt32LE(0x02014b50, 0);
    record.writeUInt16LE(20, 4);
    header(record, 6);
    record.writeUInt32LE(offset, 42);
    name.copy(record, 46);
    chunks.push(local, bytes);
    central.push(record);
    offset += local.length + bytes.length;
  }
  const size = central.reduce((n, c) => n + c.length, 0);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(parts.length, 8);
  end.writeUInt16LE(parts.length, 10);
  end.writeUInt32LE(size, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...chunks, ...central, end]);
}

/** A zip-format checkpoint: data.pkl plus each storage's entry. */
export function checkpoint(tensors: TensorClaim[], storages: ZipPart[]): Uint8Array {
  return zipArchive([
    { name: 'archive/data.pkl', data: stateDictPickle(tensors) },
    ...storages.map((s) => ({ ...s, name: `archive/data/${s.name}` })),
  ]);
}

/** A safetensors file from a header written as given (so keys may repeat) and its data bytes. */
export function safetensorsFile(headerJson: string, data: Uint8Array): Uint8Array {
  const json = Buffer.from(headerJson);
  const head = Buffer.alloc(8);
  head.writeBigUInt64LE(BigInt(json.length));
  return Buffer.concat([head, json, data]);
}

/** Float32 values as little-endian bytes. */
export const f32 = (...values: number[]) => new Uint8Array(Float32Array.from(values).buffer);
