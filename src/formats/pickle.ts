/**
 * A restricted unpickler for PyTorch checkpoints.
 *
 * Python's pickle is a small stack machine whose GLOBAL + REDUCE opcodes call any importable
 * function, which is how a malicious `.pth` runs `os.system`. This one never calls anything from
 * the file: GLOBAL resolves only against an allow-list of what `torch.save` writes for a state
 * dict, and those entries are implemented here in TypeScript as plain data constructors. Every
 * length, index and size is checked against the bytes available before anything is allocated.
 */
import type { SourceDType } from '../nn/state-dict.ts';
import { describe } from '../errors/index.ts';
import { UnsafePickleError, cannotRead, isCount, truncated } from './errors.ts';

/** A Python dict or OrderedDict: insertion-ordered like the checkpoint. */
export class PyDict {
  readonly items = new Map<unknown, unknown>();
  /** What BUILD set on it (a state dict's `_metadata`): kept as data, never interpreted. */
  state: unknown = undefined;
}

/** A torch.Tensor as `_rebuild_tensor_v2` describes it: a strided view into a storage. */
export class TensorRef {
  constructor(
    /** Whatever the caller's `persistentLoad` returned for the storage's persistent id. */
    readonly storage: unknown,
    /** In elements of the storage. */
    readonly offset: number,
    readonly shape: number[],
    readonly stride: number[],
  ) {}
}

/** A `torch.*Storage` class, as persistent ids name a storage's element type. */
export class StorageType {
  constructor(
    readonly name: string,
    readonly dtype: SourceDType,
  ) {}
}

/** An allow-listed callable, implemented here; REDUCE and NEWOBJ call only these. */
class PyCallable {
  constructor(
    readonly qualifiedName: string,
    readonly call: (args: unknown[], file: string) => unknown,
  ) {}
}

export interface UnpickleOptions {
  /** Named in every error. */
  file: string;
  /** Where the pickle starts in `bytes` (legacy checkpoints hold several pickles in a row). */
  start?: number;
  /** Turns a persistent id (BINPERSID) into a value; a pickle with one is refused without it. */
  persistentLoad?: (pid: unknown) => unknown;
}

const STORAGE_DTYPES: Record<string, SourceDType> = {
  FloatStorage: 'float32',
  DoubleStorage: 'float64',
  HalfStorage: 'float16',
  BFloat16Storage: 'bfloat16',
  LongStorage: 'int64',
  IntStorage: 'int32',
  ShortStorage: 'int16',
  CharStorage: 'int8',
  ByteStorage: 'uint8',
  BoolStorage: 'bool',
};

function orderedDict(args: unknown[], file: string): PyDict {
  const dict = new PyDict();
  // OrderedDict() or OrderedDict([(k, v), ...]): the two forms pickles of dicts use.
  if (args.length === 0) return dict;
  const [pairs] = args;
  if (args.length !== 1 || !Array.isArray(pairs)) {
    throw cannotRead(file, `collections.OrderedDict expects () or ([pairs]), got ${args.map(describe).join(', ')}`);
  }
  for (const pair of pairs) {
    if (!Array.isArray(pair) || pair.length !== 2) throw cannotRead(file, `collections.OrderedDict expects (key, value) pairs, got ${describe(pair)}`);
    dict.items.set(pair[0], pair[1]);
  }
  return dict;
}

function rebuildTensor(args: unknown[], file: string): TensorRef {
  // (storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])
  const [storage, offset, shape, stride] = args;
  const ok =
    args.length >= 4 &&
    isCount(offset) &&
    Array.isArray(shape) &&
    shape.every(isCount) &&
    Array.isArray(stride) &&
    stride.every(isCount) &&
    stride.length === shape.length;
  if (!ok) {
    throw cannotRead(
      file,
      'torch._utils._rebuild_tensor_v2 expects (storage, offset, size, stride, ...) with non-negative integers, ' +
        `got (${args.map(describe).join(', ')})`,
    );
  }
  return new TensorRef(storage, offset as number, shape as number[], stride as number[]);
}

function rebuildParameter(args: unknown[], file: string): TensorRef {
  // (data, requires_grad, backward_hooks[, state]): a Parameter is its data for a state dict.
  const [data] = args;
  if (!(data instanceof TensorRef)) throw cannotRead(file, `torch._utils._rebuild_parameter expects a tensor, got ${describe(data)}`);
  return data;
}

function codecsEncode(args: unknown[], file: string): Uint8Array {
  // Protocol 2 pickles Python 3 bytes as _codecs.encode(str, 'latin1').
  const [text, encoding] = args;
  if (typeof text !== 'string' || (encoding !== 'latin1' && encoding !== 'latin-1')) {
    throw cannotRead(file, `_codecs.encode is only accepted as (str, "latin1"), got (${args.map(describe).join(', ')})`);
  }
  return Uint8Array.from(text, (c) => c.charCodeAt(0) & 0xff);
}

const CALLABLES = new Map<string, (args: unknown[], file: string) => unknown>([
  ['collections.OrderedDict', orderedDict],
  ['torch._utils._rebuild_tensor_v2', rebuildTensor],
  ['torch._utils._rebuild_parameter', rebuildParameter],
  ['torch._utils._rebuild_parameter_with_state', rebuildParameter],
  ['_codecs.encode', codecsEncode],
]);

/** The whole allow-list: anything else a pickle names is refused, by name. */
function resolveGlobal(module: string, name: string, file: string): unknown {
  const qualified = `${module}.${name}`;
  const call = CALLABLES.get(qualified);
  if (call) return new PyCallable(qualified, call);
  if (module === 'torch' && Object.hasOwn(STORAGE_DTYPES, name)) return new StorageType(name, STORAGE_DTYPES[name]);
  throw new UnsafePickleError(file, qualified);
}

/**
 * The widest integer torch.save writes: the 80-bit magic number that opens a legacy checkpoint.
 * Sizes, offsets and strides fit in 64 bits.
 */
const MAX_LONG_BYTES = 10;

const utf8 = new TextDecoder('utf-8');
const latin1 = new TextDecoder('latin1');

/** Reads one pickle from `bytes` (from `start` up to its STOP) and returns its value. */
export function unpickle(bytes: Uint8Array, options: UnpickleOptions): { value: unknown; end: number } {
  return new Unpickler(bytes, options).run();
}

class Unpickler {
  private readonly view: DataView;
  private readonly file: string;
  private pos: number;
  private stack: unknown[] = [];
  private readonly marks: unknown[][] = [];
  private readonly memo = new Map<number, unknown>();

  constructor(
    private readonly bytes: Uint8Array,
    private readonly options: UnpickleOptions,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.file = options.file;
    this.pos = options.start ?? 0;
  }

  run(): { value: unknown; end: number } {
    for (;;) {
      const at = this.pos;
      const op = this.u8('a pickle opcode');
      if (op === 0x2e /* STOP */) return { value: this.pop(at), end: this.pos };
      this.step(op, at);
    }
  }

  private fail(problem: string, at: number): never {
    throw cannotRead(this.file, `malformed pickle at offset ${at}: ${problem}`);
  }

  // --- reading operands, each checked against the bytes left ---

  private need(n: number, what: string): number {
    if (n > this.bytes.length - this.pos) throw truncated(this.file, what, n, this.pos, this.bytes.length);
    const at = this.pos;
    this.pos += n;
    return at;
  }
  private u8(what: string): number {
    return this.bytes[this.need(1, what)];
  }
  private u16(what: string): number {
    return this.view.getUint16(this.need(2, what), true);
  }
  private u32(what: string): number {
    return this.view.getUint32(this.need(4, what), true);
  }
  private i32(what: string): number {
    return this.view.getInt32(this.need(4, what), true);
  }
  /** A 64-bit length of `what` that follows; refused at once if more than the bytes left. */
  private u64(what: string): number {
    const big = this.view.getBigUint64(this.need(8, `the length of ${what}`), true);
    if (big > BigInt(this.bytes.length - this.pos)) throw truncated(this.file, what, big, this.pos, this.bytes.length);
    return Number(big);
  }
  private slice(n: number, what: string): Uint8Array {
    const at = this.need(n, what);
    return this.bytes.subarray(at, at + n);
  }
  private line(what: string): string {
    // GLOBAL operands: "module\nname\n". Bounded so a missing newline cannot scan far.
    const end = this.bytes.indexOf(0x0a, this.pos);
    if (end < 0 || end - this.pos > 1024) this.fail(`${what} is not a newline-terminated name`, this.pos);
    const text = latin1.decode(this.bytes.subarray(this.pos, end));
    this.pos = end + 1;
    return text;
  }
  private long(n: number, at: number): number | bigint {
    // Decoding a LONG into a bigint is quadratic in its length, so a megabyte-long integer would
    // hang the reader; nothing in a checkpoint is wider than the legacy format's magic number.
    if (n > MAX_LONG_BYTES) {
      this.fail(`a ${n}-byte integer; a checkpoint holds none wider than ${MAX_LONG_BYTES} bytes (${MAX_LONG_BYTES * 8} bits)`, at);
    }
    const data = this.slice(n, 'a LONG integer');
    let value = 0n;
    for (let i = n - 1; i >= 0; i--) value = (value << 8n) | BigInt(data[i]);
    if (n > 0 && data[n - 1] & 0x80) value -= 1n << BigInt(8 * n);
    return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value;
  }

  // --- the stack ---

  private push(value: unknown): void {
    this.stack.push(value);
  }
  private pop(at: number): unknown {
    if (this.stack.length === 0) this.fail('stack underflow', at);
    return this.stack.pop();
  }
  private top(at: number): unknown {
    if (this.stack.length === 0) this.fail('stack underflow', at);
    return this.stack[this.stack.length - 1];
  }
  private popMark(at: number): unknown[] {
    const items = this.stack;
    const outer = this.marks.pop();
    if (!outer) this.fail('no MARK to pop to', at);
    this.stack = outer;
    return items;
  }
  private popN(n: number, at: number): unknown[] {
    if (this.stack.length < n) this.fail('stack underflow', at);
    return this.stack.splice(this.stack.length - n, n);
  }
  private get(index: number, at: number): unknown {
    if (!this.memo.has(index)) this.fail(`memo entry ${index} was never stored`, at);
    return this.memo.get(index);
  }
  private call(callable: unknown, args: unknown, at: number): unknown {
    if (!(callable instanceof PyCallable)) this.fail(`${describe(callable)} is not callable`, at);
    if (!Array.isArray(args)) this.fail(`arguments of ${callable.qualifiedName} are ${describe(args)}, not a tuple`, at);
    return callable.call(args, this.file);
  }

  private step(op: number, at: number): void {
    switch (op) {
      case 0x80: // PROTO
        if (this.u8('the protocol number') > 5) this.fail('pickle protocol above 5', at);
        return;
      case 0x95: // FRAME: a length hint only
        this.u64('a frame');
        return;
      case 0x7d: // EMPTY_DICT
        return this.push(new PyDict());
      case 0x5d: // EMPTY_LIST
      case 0x29: // EMPTY_TUPLE
        return this.push([]);
      case 0x28: // MARK
        this.marks.push(this.stack);
        this.stack = [];
        return;
      case 0x58: // BINUNICODE
        return this.push(utf8.decode(this.slice(this.u32('a string length'), 'a string')));
      case 0x8c: // SHORT_BINUNICODE
        return this.push(utf8.decode(this.slice(this.u8('a string length'), 'a string')));
      case 0x8d: // BINUNICODE8
        return this.push(utf8.decode(this.slice(this.u64('a string'), 'a string')));
      case 0x54: // BINSTRING (Python 2 str)
        return this.push(latin1.decode(this.slice(this.u32('a string length'), 'a string')));
      case 0x55: // SHORT_BINSTRING
        return this.push(latin1.decode(this.slice(this.u8('a string length'), 'a string')));
      case 0x42: // BINBYTES
        return this.push(new Uint8Array(this.slice(this.u32('a bytes length'), 'bytes')));
      case 0x43: // SHORT_BINBYTES
        return this.push(new Uint8Array(this.slice(this.u8('a bytes length'), 'bytes')));
      case 0x8e: // BINBYTES8
        return this.push(new Uint8Array(this.slice(this.u64('bytes'), 'bytes')));
      case 0x71: // BINPUT
        this.memo.set(this.u8('a memo index'), this.top(at));
        return;
      case 0x72: // LONG_BINPUT
        this.memo.set(this.u32('a memo index'), this.top(at));
        return;
      case 0x94: // MEMOIZE
        this.memo.set(this.memo.size, this.top(at));
        return;
      case 0x68: // BINGET
        return this.push(this.get(this.u8('a memo index'), at));
      case 0x6a: // LONG_BINGET
        return this.push(this.get(this.u32('a memo index'), at));
      case 0x4a: // BININT
        return this.push(this.i32('an int'));
      case 0x4b: // BININT1
        return this.push(this.u8('an int'));
      case 0x4d: // BININT2
        return this.push(this.u16('an int'));
      case 0x8a: // LONG1
        return this.push(this.long(this.u8('a LONG length'), at));
      case 0x8b: {
        // LONG4
        const n = this.i32('a LONG length');
        if (n < 0) this.fail(`negative LONG length ${n}`, at);
        return this.push(this.long(n, at));
      }
      case 0x47: // BINFLOAT: big-endian, unlike everything else
        return this.push(this.view.getFloat64(this.need(8, 'a float'), false));
      case 0x88: // NEWTRUE
        return this.push(true);
      case 0x89: // NEWFALSE
        return this.push(false);
      case 0x4e: // NONE
        return this.push(null);
      case 0x85: // TUPLE1
        return this.push(this.popN(1, at));
      case 0x86: // TUPLE2
        return this.push(this.popN(2, at));
      case 0x87: // TUPLE3
        return this.push(this.popN(3, at));
      case 0x74: // TUPLE
      case 0x6c: // LIST
        return this.push(this.popMark(at));
      case 0x64: {
        // DICT
        const items = this.popMark(at);
        const dict = new PyDict();
        this.setItems(dict, items, at);
        return this.push(dict);
      }
      case 0x73: {
        // SETITEM
        const [key, value] = this.popN(2, at);
        return this.setItems(this.top(at), [key, value], at);
      }
      case 0x75: {
        // SETITEMS
        const items = this.popMark(at);
        return this.setItems(this.top(at), items, at);
      }
      case 0x61: {
        // APPEND
        const value = this.pop(at);
        return this.appendItems(this.top(at), [value], at);
      }
      case 0x65: {
        // APPENDS
        const items = this.popMark(at);
        return this.appendItems(this.top(at), items, at);
      }
      case 0x63: {
        // GLOBAL
        const module = this.line('a GLOBAL module');
        const name = this.line('a GLOBAL name');
        return this.push(resolveGlobal(module, name, this.file));
      }
      case 0x93: {
        // STACK_GLOBAL
        const [module, name] = this.popN(2, at);
        if (typeof module !== 'string' || typeof name !== 'string') this.fail('STACK_GLOBAL needs two strings', at);
        return this.push(resolveGlobal(module, name, this.file));
      }
      case 0x52: {
        // REDUCE
        const args = this.pop(at);
        const callable = this.pop(at);
        return this.push(this.call(callable, args, at));
      }
      case 0x81: {
        // NEWOBJ: cls.__new__(cls, *args); only allow-listed classes exist here
        const args = this.pop(at);
        const cls = this.pop(at);
        return this.push(this.call(cls, args, at));
      }
      case 0x62: {
        // BUILD
        const state = this.pop(at);
        const target = this.top(at);
        if (target instanceof PyDict) target.state = state;
        else if (!(target instanceof TensorRef)) this.fail(`BUILD on ${describe(target)}`, at);
        return;
      }
      case 0x51: {
        // BINPERSID
        const pid = this.pop(at);
        if (!this.options.persistentLoad) this.fail('a persistent id where none is expected', at);
        return this.push(this.options.persistentLoad(pid));
      }
      case 0x30: // POP
        this.pop(at);
        return;
      case 0x31: // POP_MARK
        this.popMark(at);
        return;
      case 0x32: // DUP
        return this.push(this.top(at));
      default: {
        const printable = op >= 0x20 && op < 0x7f ? ` ('${String.fromCharCode(op)}')` : '';
        this.fail(`unsupported opcode 0x${op.toString(16).padStart(2, '0')}${printable}, which torch.save does not write`, at);
      }
    }
  }

  private setItems(target: unknown, items: unknown[], at: number): void {
    if (!(target instanceof PyDict)) this.fail(`SETITEMS on ${describe(target)}`, at);
    if (items.length % 2 !== 0) this.fail('SETITEMS with an odd number of items', at);
    for (let i = 0; i < items.length; i += 2) target.items.set(items[i], items[i + 1]);
  }

  private appendItems(target: unknown, items: unknown[], at: number): void {
    if (!Array.isArray(target)) this.fail(`APPENDS on ${describe(target)}`, at);
    for (const item of items) target.push(item);
  }
}
