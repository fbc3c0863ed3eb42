/**
 * PyTorch checkpoints (`torch.save` of a state dict), in both formats:
 *
 * - zip (PyTorch >= 1.6): `<archive>/data.pkl` pickles the dict, each tensor's storage is the
 *   entry `<archive>/data/<key>`, raw little-endian elements;
 * - legacy (before 1.6): five things in a row: a pickled magic number, protocol version and
 *   system info, the pickled dict, the pickled list of storage keys, then each storage as an
 *   int64 element count followed by its elements.
 *
 * Either way the pickle is read by the restricted unpickler, which never executes code.
 */
import { readFile } from 'node:fs/promises';
import type { HostTensor, SourceDType, StateDict, TensorSpec } from '../nn/state-dict.ts';
import { numel } from '../graph/tensor.ts';
import { describe } from '../errors/index.ts';
import { UnsafePickleError, cannotRead, isCount, truncated } from './errors.ts';
import { PyDict, StorageType, TensorRef, unpickle } from './pickle.ts';
import { ELEMENT_SIZE, checkTensor, decodeElements, encodeElements, isFloatDType, storedDType } from './element-codec.ts';
import { PickleWriter } from './pickle-writer.ts';
import { encodeZip, isZip, readZipDirectory, readZipEntry } from './zip.ts';
import { writeFileAtomic } from './atomic-write.ts';
import { MAX_CHECKPOINT_BYTES, ByteBudget, matchExpected, newBudget, type ReadWeightsOptions } from './expected-state.ts';

export interface ReadPthOptions extends ReadWeightsOptions {
  /**
   * The entry of a wrapping checkpoint (`{"epoch": 3, "model": {...}}`) that holds the state
   * dict. By default: the file itself if it is a dict of tensors, else "state_dict", else "model".
   */
  entry?: string;
  /**
   * A key prefix to remove where present, e.g. "module." that DataParallel adds. Without a model
   * to match (`expected`), never removed unless asked: a key is a name, and renaming it silently
   * would hide a mismatch.
   */
  stripPrefix?: string;
}

/** A storage as a persistent id describes it, before its bytes are read. */
class StorageRef {
  constructor(
    readonly key: string,
    readonly dtype: SourceDType,
    readonly numel: number,
    /** Legacy checkpoints may save a view of another storage: its element offset in the root. */
    readonly view?: { rootKey: string; offset: number },
  ) {}
}

/** Widened storages by key, read once however many tensors share them. */
type StorageLoader = (ref: StorageRef) => Float32Array | BigInt64Array;

export async function readPth(path: string, options: ReadPthOptions = {}): Promise<StateDict> {
  return readPthBuffer(await readFile(path), path, options);
}

/**
 * Every key, shape, stride and storage size is checked (and, given `expected`, compared with the
 * model) before any storage is inflated or any tensor allocated.
 */
export function readPthBuffer(bytes: Uint8Array, name: string, options: ReadPthOptions = {}): StateDict {
  const { root, load } = isZip(bytes) ? openZip(bytes, name) : openLegacy(bytes, name);
  const dict = selectStateDict(root, name, options.entry);
  const tensors = checkTensors(dict, name, options.stripPrefix);
  const specs = new Map<string, TensorSpec>(tensors.map((t) => [t.key, { dtype: widened(t.storage.dtype), shape: t.view.shape }]));
  const keys = matchExpected(specs, name, options);
  checkSizes(tensors, name, options);
  return materialize(tensors, keys, load);
}

/**
 * What decoding will allocate, before it does: the storages (once each, however many tensors
 * share them) within what the model can need, and the tensors themselves, which a stride of 0
 * can make far larger than their storage, within the global cap.
 */
function checkSizes(tensors: CheckedTensor[], name: string, options: ReadWeightsOptions): void {
  const storages = newBudget(name, options.expected);
  const seen = new Set<string>();
  for (const { storage } of tensors) {
    if (seen.has(storage.key)) continue;
    seen.add(storage.key);
    storages.take(storage.numel * widenedSize(storage.dtype), `storage "${storage.key}" (${storage.numel} ${storage.dtype} elements)`);
  }
  const views = new ByteBudget(name, MAX_CHECKPOINT_BYTES, 'the most graft reads from one checkpoint');
  for (const t of tensors) views.take(numel(t.view.shape) * widenedSize(t.storage.dtype), `tensor "${t.rawKey}" of shape [${t.view.shape.join(', ')}]`);
}

const widened = (dtype: SourceDType): 'float32' | 'int64' => (isFloatDType(dtype) ? 'float32' : 'int64');
const widenedSize = (dtype: SourceDType): number => (isFloatDType(dtype) ? 4 : 8);

// --- zip format ---

/** The pickle of a state dict takes about 150 bytes a tensor: 16 MiB is room for 100,000 tensors. */
const MAX_PICKLE_BYTES = 16 * 2 ** 20;

function openZip(bytes: Uint8Array, name: string): { root: unknown; load: StorageLoader } {
  const entries = readZipDirectory(bytes, name);
  // The archive folder is "archive" since PyTorch 1.6.x, the file's stem before that.
  const pkl = [...entries.keys()].find((n) => /^[^/]+\/data\.pkl$/.test(n));
  if (!pkl) throw cannotRead(name, 'a zip archive without <archive>/data.pkl is not a PyTorch checkpoint');
  const prefix = pkl.slice(0, -'data.pkl'.length);
  const byteOrder = entries.get(`${prefix}byteorder`);
  if (byteOrder && new TextDecoder().decode(readZipEntry(bytes, byteOrder, name, 16)).trim() !== 'little') {
    throw cannotRead(name, 'the checkpoint was saved on a big-endian machine; graft reads little-endian checkpoints only');
  }
  const root = unpickle(readZipEntry(bytes, entries.get(pkl)!, name, MAX_PICKLE_BYTES), {
    file: name,
    persistentLoad: (pid) => zipStorageRef(pid, name),
  }).value;
  const load: StorageLoader = (ref) => {
    const entryName = `${prefix}data/${ref.key}`;
    const entry = entries.get(entryName);
    if (!entry) throw cannotRead(name, `storage "${ref.key}" is missing: no entry ${entryName} in the archive`);
    // torch.save writes each storage as exactly its elements: an entry of any other size is
    // refused before it is inflated, so a small file cannot claim gigabytes behind a small storage.
    const need = ref.numel * ELEMENT_SIZE[ref.dtype];
    if (entry.size !== need) {
      throw cannotRead(name, `storage "${ref.key}" holds ${ref.numel} ${ref.dtype} elements (${need} bytes) but ${entryName} has ${entry.size} bytes`);
    }
    return decodeElements(readZipEntry(bytes, entry, name, need), ref.dtype, ref.numel);
  };
  return { root, load };
}

/** ('storage', torch.FloatStorage, key, location, numel) */
function zipStorageRef(pid: unknown, name: string): StorageRef {
  const [kind, type, key, location, count] = Array.isArray(pid) ? pid : [];
  if (kind !== 'storage' || !(type instanceof StorageType) || typeof key !== 'string' || typeof location !== 'string' || !isCount(count)) {
    throw cannotRead(name, `unexpected persistent id ${describePid(pid)}; expected ('storage', torch.<Type>Storage, key, location, numel)`);
  }
  return new StorageRef(key, type.dtype, count);
}

// --- legacy format ---

const LEGACY_MAGIC = 0x1950a86a20f9469cfc6cn;
const LEGACY_PROTOCOL = 1001;

function openLegacy(bytes: Uint8Array, name: string): { root: unknown; load: StorageLoader } {
  const magic = readLegacyMagic(bytes, name);
  let at = magic.end;
  const protocol = unpickle(bytes, { file: name, start: at });
  if (protocol.value !== LEGACY_PROTOCOL) {
    throw cannotRead(name, `legacy checkpoint protocol version is ${describe(protocol.value)}; expected ${LEGACY_PROTOCOL}`);
  }
  const sysInfo = unpickle(bytes, { file: name, start: protocol.end });
  if (sysInfo.value instanceof PyDict && sysInfo.value.items.get('little_endian') === false) {
    throw cannotRead(name, 'the checkpoint was saved on a big-endian machine; graft reads little-endian checkpoints only');
  }
  const refs = new Map<string, StorageRef>();
  const main = unpickle(bytes, {
    file: name,
    start: sysInfo.end,
    persistentLoad: (pid) => legacyStorageRef(pid, name, refs),
  });
  const keys = unpickle(bytes, { file: name, start: main.end });
  if (!Array.isArray(keys.value) || !keys.value.every((k) => typeof k === 'string')) {
    throw cannotRead(name, `expected the list of storage keys after the pickled state dict, got ${describe(keys.value)}`);
  }
  at = keys.end;
  // Storages follow in the order of that list, each as an int64 count then its elements.
  const located = new Map<string, { offset: number; numel: number }>();
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (const key of keys.value as string[]) {
    const ref = refs.get(key);
    if (!ref) throw cannotRead(name, `storage key "${key}" is listed but no tensor uses it`);
    if (at + 8 > bytes.length) throw truncated(name, `the element count of storage "${key}"`, 8, at, bytes.length);
    const count = view.getBigInt64(at, true);
    const size = count * BigInt(ELEMENT_SIZE[ref.dtype]);
    if (count < 0n || size > BigInt(bytes.length - at - 8)) throw truncated(name, `storage "${key}" (${count} ${ref.dtype} elements)`, size, at + 8, bytes.length);
    located.set(key, { offset: at + 8, numel: Number(count) });
    at += 8 + Number(size);
  }
  const load: StorageLoader = (ref) => {
    const rootKey = ref.view?.rootKey ?? ref.key;
    const stored = located.get(rootKey);
    if (!stored) throw cannotRead(name, `storage "${rootKey}" is used by a tensor but not stored in the file`);
    const first = ref.view?.offset ?? 0;
    if (first + ref.numel > stored.numel) {
      throw cannotRead(name, `storage "${ref.key}" needs elements ${first}..${first + ref.numel} of storage "${rootKey}", which has ${stored.numel}`);
    }
    const start = stored.offset + first * ELEMENT_SIZE[ref.dtype];
    return decodeElements(bytes.subarray(start, start + ref.numel * ELEMENT_SIZE[ref.dtype]), ref.dtype, ref.numel);
  };
  return { root: main.value, load };
}

function readLegacyMagic(bytes: Uint8Array, name: string): { end: number } {
  let magic: { value: unknown; end: number };
  try {
    magic = unpickle(bytes, { file: name });
  } catch (error) {
    // A bare pickle (protocol 0 has no PROTO opcode) is the classic malicious .pth: name what it
    // calls. Anything else that is neither zip nor pickle: say what was expected.
    if (error instanceof UnsafePickleError || bytes[0] === 0x80) throw error;
    throw cannotRead(name, 'not a PyTorch checkpoint: expected a zip archive (PyTorch >= 1.6) or a legacy pickle stream');
  }
  if (BigInt(typeof magic.value === 'number' || typeof magic.value === 'bigint' ? magic.value : -1) !== LEGACY_MAGIC) {
    throw cannotRead(name, `bad magic number ${describe(magic.value)}; expected 0x${LEGACY_MAGIC.toString(16)} of a legacy PyTorch checkpoint`);
  }
  return magic;
}

/** ('storage', torch.FloatStorage, root_key, location, numel, view_metadata | None) */
function legacyStorageRef(pid: unknown, name: string, refs: Map<string, StorageRef>): StorageRef {
  const [kind, type, rootKey, location, count, viewMeta] = Array.isArray(pid) ? pid : [];
  if (kind !== 'storage' || !(type instanceof StorageType) || typeof rootKey !== 'string' || typeof location !== 'string' || !isCount(count)) {
    throw cannotRead(name, `unexpected persistent id ${describePid(pid)}; expected ('storage', torch.<Type>Storage, key, location, numel, view)`);
  }
  const root = refs.get(rootKey) ?? new StorageRef(rootKey, type.dtype, count);
  refs.set(rootKey, root);
  if (viewMeta === null || viewMeta === undefined) return root;
  const [viewKey, offset, viewSize] = Array.isArray(viewMeta) ? viewMeta : [];
  if (typeof viewKey !== 'string' || !isCount(offset) || !isCount(viewSize)) {
    throw cannotRead(name, `unexpected storage view ${describePid(viewMeta)}; expected (key, offset, size)`);
  }
  return new StorageRef(viewKey, type.dtype, viewSize, { rootKey, offset });
}

function describePid(pid: unknown): string {
  if (!Array.isArray(pid)) return describe(pid);
  return `(${pid.map((p) => (p instanceof StorageType ? `torch.${p.name}` : describe(p))).join(', ')})`;
}

// --- from the unpickled object to a StateDict ---

function isTensorDict(dict: PyDict): boolean {
  return [...dict.items.values()].every((v) => v instanceof TensorRef);
}

function selectStateDict(root: unknown, name: string, entry: string | undefined): PyDict {
  if (!(root instanceof PyDict)) throw cannotRead(name, `expected a state dict (a dict of tensors), found ${describe(root)}`);
  const keys = () => [...root.items.keys()].map((k) => String(k)).join(', ');
  if (entry !== undefined) {
    const inner = root.items.get(entry);
    if (!(inner instanceof PyDict)) throw cannotRead(name, `no state dict under "${entry}"; the checkpoint has: ${keys()}`);
    return inner;
  }
  if (isTensorDict(root)) return root;
  for (const wrapper of ['state_dict', 'model']) {
    const inner = root.items.get(wrapper);
    if (inner instanceof PyDict) return inner;
  }
  const nonTensors = [...root.items].filter(([, v]) => !(v instanceof TensorRef)).map(([k, v]) => `"${String(k)}" (${describe(v)})`);
  throw cannotRead(
    name,
    `expected a state dict (a dict of tensors) or a checkpoint with a "state_dict" or "model" entry; ` +
      `found a dict with keys ${keys()}, of which not tensors: ${nonTensors.slice(0, 5).join(', ')}`,
  );
}

interface CheckedTensor {
  rawKey: string;
  /** After `stripPrefix`. */
  key: string;
  view: TensorRef;
  storage: StorageRef;
}

/** Each entry is a tensor on a storage of the file, and its view stays inside that storage. */
function checkTensors(dict: PyDict, name: string, stripPrefix: string | undefined): CheckedTensor[] {
  const out: CheckedTensor[] = [];
  const keys = new Set<string>();
  for (const [rawKey, view] of dict.items) {
    if (typeof rawKey !== 'string') throw cannotRead(name, `state dict key ${describe(rawKey)} is not a string`);
    if (!(view instanceof TensorRef)) throw cannotRead(name, `state dict entry "${rawKey}" is ${describe(view)}, not a tensor`);
    const storage = view.storage;
    if (!(storage instanceof StorageRef)) throw cannotRead(name, `tensor "${rawKey}" is built on ${describe(storage)}, not on a storage of the file`);
    const key = stripPrefix && rawKey.startsWith(stripPrefix) ? rawKey.slice(stripPrefix.length) : rawKey;
    if (keys.has(key)) throw cannotRead(name, `removing the prefix "${stripPrefix}" makes two entries named "${key}"`);
    keys.add(key);
    let last = view.offset;
    for (let d = 0; d < view.shape.length; d++) last += (view.shape[d] - 1) * view.stride[d];
    if (numel(view.shape) > 0 && last >= storage.numel) {
      throw cannotRead(
        name,
        `tensor "${rawKey}" (shape [${view.shape.join(', ')}], stride [${view.stride.join(', ')}], offset ${view.offset}) reaches element ${last} of a storage of ${storage.numel}`,
      );
    }
    out.push({ rawKey, key, view, storage });
  }
  return out;
}

function materialize(tensors: CheckedTensor[], keys: Map<string, string>, load: StorageLoader): StateDict {
  const storages = new Map<string, Float32Array | BigInt64Array>();
  const out: StateDict = new Map();
  for (const { key, view, storage: ref } of tensors) {
    let storage = storages.get(ref.key);
    if (!storage) storages.set(ref.key, (storage = load(ref)));
    out.set(keys.get(key) ?? key, gather(storage, ref.dtype, view));
  }
  return out;
}

/** The tensor's elements, in row-major order, from its (offset, shape, stride) view of a storage. */
function gather(storage: Float32Array | BigInt64Array, sourceDtype: SourceDType, t: TensorRef): HostTensor {
  const n = numel(t.shape);
  const data = isContiguous(t) ? storage.slice(t.offset, t.offset + n) : gatherStrided(storage, t, n);
  return data instanceof Float32Array
    ? { dtype: 'float32', shape: [...t.shape], data, sourceDtype }
    : { dtype: 'int64', shape: [...t.shape], data, sourceDtype };
}

function isContiguous(t: TensorRef): boolean {
  let expected = 1;
  for (let d = t.shape.length - 1; d >= 0; d--) {
    // Strides of size-1 dimensions never move, so PyTorch leaves them arbitrary.
    if (t.shape[d] !== 1 && t.stride[d] !== expected) return false;
    expected *= t.shape[d];
  }
  return true;
}

/** Transposed or sliced views saved as they were: walk the index like an odometer. */
function gatherStrided<T extends Float32Array | BigInt64Array>(storage: T, t: TensorRef, n: number): T {
  const out = new (storage.constructor as new (n: number) => T)(n);
  const rank = t.shape.length;
  const index = new Array<number>(rank).fill(0);
  let src = t.offset;
  for (let i = 0; i < n; i++) {
    out[i] = storage[src];
    for (let d = rank - 1; d >= 0; d--) {
      src += t.stride[d];
      if (++index[d] < t.shape[d]) break;
      src -= t.stride[d] * t.shape[d];
      index[d] = 0;
    }
  }
  return out;
}

// --- writing ---

export interface WritePthOptions {
  /** Store each tensor in its `sourceDtype` (default true), so a float16 checkpoint stays float16. */
  keepSourceDtype?: boolean;
  /**
   * torch's `_metadata` of the state dict: module prefix ('' for the model) to that module's
   * version, for modules whose load reads it (torchvision's MNASNet refuses a checkpoint without).
   */
  moduleVersions?: ReadonlyMap<string, number>;
}

/** Writes `stateDict` in the zip format `torch.load` reads, atomically (temp file, then rename). */
export async function writePth(path: string, stateDict: StateDict, options: WritePthOptions = {}): Promise<void> {
  await writeFileAtomic(path, encodePth(stateDict, options));
}

const STORAGE_CLASS: Record<SourceDType, string> = {
  float32: 'FloatStorage',
  float64: 'DoubleStorage',
  float16: 'HalfStorage',
  bfloat16: 'BFloat16Storage',
  int64: 'LongStorage',
  int32: 'IntStorage',
  int16: 'ShortStorage',
  int8: 'CharStorage',
  uint8: 'ByteStorage',
  bool: 'BoolStorage',
};

/** The bytes of a zip-format checkpoint, as chunks in file order. */
export function encodePth(stateDict: StateDict, options: WritePthOptions = {}): Uint8Array[] {
  const tensors = [...stateDict].map(([key, tensor], i) => {
    checkTensor(key, tensor);
    const dtype = storedDType(tensor, options.keepSourceDtype ?? true);
    return { key, tensor, dtype, storageKey: String(i), data: encodeElements(tensor, dtype, key) };
  });
  return encodeZip([
    { name: 'archive/data.pkl', data: pickleStateDict(tensors, options.moduleVersions ?? new Map()) },
    { name: 'archive/byteorder', data: new TextEncoder().encode('little') },
    ...tensors.map((t) => ({ name: `archive/data/${t.storageKey}`, data: t.data })),
    { name: 'archive/version', data: new TextEncoder().encode('3\n') },
  ]);
}

/** The pickle torch.save writes for an OrderedDict of contiguous tensors (protocol 2). */
function pickleStateDict(tensors: { key: string; tensor: HostTensor; dtype: SourceDType; storageKey: string }[], versions: ReadonlyMap<string, number>): Uint8Array {
  const p = new PickleWriter();
  p.op(0x80, 2); // PROTO 2
  p.global('collections', 'OrderedDict');
  p.op(0x29, 0x52); // EMPTY_TUPLE, REDUCE
  p.op(0x28); // MARK
  for (const { key, tensor, dtype, storageKey } of tensors) {
    p.string(key);
    p.global('torch._utils', '_rebuild_tensor_v2');
    p.op(0x28); // MARK: the arguments
    p.op(0x28); // MARK: the persistent id
    p.string('storage');
    p.global('torch', STORAGE_CLASS[dtype]);
    p.string(storageKey);
    p.string('cpu');
    p.int(tensor.data.length);
    p.op(0x74, 0x51); // TUPLE, BINPERSID
    p.int(0); // storage offset
    p.tuple(tensor.shape);
    p.tuple(contiguousStrides(tensor.shape));
    p.op(0x89); // NEWFALSE: requires_grad
    p.global('collections', 'OrderedDict');
    p.op(0x29, 0x52); // backward hooks: OrderedDict()
    p.op(0x74, 0x52); // TUPLE, REDUCE
  }
  p.op(0x75); // SETITEMS
  if (versions.size > 0) {
    // The OrderedDict's attributes, {'_metadata': OrderedDict({prefix: {'version': v}})}, set by BUILD.
    p.op(0x7d); // EMPTY_DICT
    p.string('_metadata');
    p.global('collections', 'OrderedDict');
    p.op(0x29, 0x52, 0x28); // EMPTY_TUPLE, REDUCE, MARK
    for (const [prefix, version] of versions) {
      p.string(prefix);
      p.op(0x7d); // EMPTY_DICT
      p.string('version');
      p.int(version);
      p.op(0x73); // SETITEM
    }
    p.op(0x75, 0x73, 0x62); // SETITEMS, SETITEM, BUILD
  }
  p.op(0x2e); // STOP
  return p.bytes();
}

function contiguousStrides(shape: number[]): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    strides[d] = s;
    s *= shape[d];
  }
  return strides;
}
