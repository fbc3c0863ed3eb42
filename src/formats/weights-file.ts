import { readFile } from 'node:fs/promises';
import type { StateDict } from '../nn/state-dict.ts';
import { readPthBuffer } from './pth.ts';
import { readSafetensorsBuffer } from './safetensors.ts';
import { isZip } from './zip.ts';

/**
 * Reads a state dict from a .pth/.pt (either PyTorch format) or .safetensors file, chosen by the
 * file's content rather than its name, so a misnamed file still loads or fails with a clear reason.
 */
export async function readWeightsFile(path: string): Promise<StateDict> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (e) {
    throw new Error(`Cannot read weights file "${path}": ${(e as Error).message}`);
  }
  if (isZip(bytes) || bytes[0] === 0x80) return readPthBuffer(bytes, path);
  return readSafetensorsBuffer(bytes, path);
}
