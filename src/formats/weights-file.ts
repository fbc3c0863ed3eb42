import { readFile } from 'node:fs/promises';
import type { StateDict } from '../nn/state-dict.ts';
import { cannotRead } from './errors.ts';
import type { ReadWeightsOptions } from './expected-state.ts';
import { readPthBuffer } from './pth.ts';
import { readSafetensorsBuffer } from './safetensors.ts';
import { isZip } from './zip.ts';

export type { ReadWeightsOptions } from './expected-state.ts';

/**
 * Reads a state dict from a .pth/.pt (either PyTorch format) or .safetensors file, chosen by the
 * file's content rather than its name, so a misnamed file still loads or fails with a clear reason.
 * Given `expected` (the model's `specOf(stateDict())`), the file is compared with it before any
 * tensor is read, and a DataParallel "module." prefix on every key is removed.
 */
export async function readWeightsFile(path: string, options: ReadWeightsOptions = {}): Promise<StateDict> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (e) {
    throw new Error(`Cannot read weights file "${path}": ${(e as Error).message}`);
  }
  const format = weightsFormat(bytes);
  if (format === 'safetensors') return readSafetensorsBuffer(bytes, path, options);
  if (format === 'pytorch') return readPthBuffer(bytes, path, options);
  throw cannotRead(
    path,
    'not a weights file: expected a PyTorch checkpoint (a zip archive or a pickle) or safetensors (an 8-byte header length, then a JSON header)',
  );
}

/**
 * Opcodes a pickle can start with: PROTO (protocol 2 and later), and for protocols 0 and 1 (no
 * PROTO) MARK, GLOBAL, the empty containers, and the ints, strings and NONE a bare value opens with.
 * A bare pickle is how a malicious .pth usually looks, so it goes to the unpickler, which names
 * what it calls, rather than being reported as a broken safetensors file.
 */
const PICKLE_STARTS = new Set([...'\x80(c})]IJKLMNFSVUTXG'].map((c) => c.charCodeAt(0)));

function weightsFormat(bytes: Uint8Array): 'safetensors' | 'pytorch' | 'unknown' {
  // safetensors: a little-endian u64 header length, then a JSON object. Checked first: the
  // length's low byte may be 0x80, which also opens a pickle.
  if (bytes.length >= 10 && bytes[8] === 0x7b /* { */) {
    const length = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getBigUint64(0, true);
    if (length >= 2n && length <= BigInt(bytes.length - 8)) return 'safetensors';
  }
  if (isZip(bytes) || (bytes.length > 0 && PICKLE_STARTS.has(bytes[0]))) return 'pytorch';
  // A header length beyond the file is a truncated safetensors file; say so in its terms.
  if (bytes.length >= 9 && bytes[8] === 0x7b) return 'safetensors';
  return 'unknown';
}
