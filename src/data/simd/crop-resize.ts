import { imageTensor, type ImageTensor, type RgbImage } from '../image.ts';
import { CROP_RESIZE_WASM } from './crop-resize-wasm.ts';

interface Exports {
  memory: WebAssembly.Memory;
  heap_base(): number;
  workspace_bytes(sw: number, sh: number, ow: number, oh: number): number;
  crop_resize_normalize(sw: number, sh: number, ow: number, oh: number, flip: number, m0: number, m1: number, m2: number, s0: number, s1: number, s2: number): number;
}

/** Crops larger than this go the general way rather than grow every thread's WebAssembly memory. */
const MAX_WORKSPACE = 64 << 20;

let kernel: Exports | null | undefined;

/** One instance per thread, compiled on first use; null where WebAssembly SIMD is unavailable. */
function instance(): Exports | null {
  if (kernel !== undefined) return kernel;
  try {
    const bytes = Buffer.from(CROP_RESIZE_WASM, 'base64');
    kernel = new WebAssembly.Instance(new WebAssembly.Module(bytes)).exports as unknown as Exports;
  } catch {
    kernel = null;
  }
  return kernel;
}

/** Whether resizedCropToTensor can take an image of this size to this size. */
export function canResizeToTensor(width: number, height: number, outWidth: number, outHeight: number): boolean {
  const k = instance();
  // The size test in JavaScript first: the kernel's 32-bit arithmetic would wrap for huge crops.
  if (!k || !(width > 0 && height > 0 && outWidth > 0 && outHeight > 0)) return false;
  if (width * height * 3 + (height + outHeight) * outWidth * 12 > MAX_WORKSPACE) return false;
  return k.workspace_bytes(width, height, outWidth, outHeight) <= MAX_WORKSPACE;
}

/**
 * Resize (antialiased bilinear, as PIL's filter but in fixed and floating point rather than
 * PIL's rounding, so within one level of 255 of it), optional horizontal flip, ToTensor and
 * Normalize in one pass: the tail of a training pipeline from a decoded crop to CHW floats.
 * Writes into `out` when it has the output's length. Check canResizeToTensor first.
 */
export function resizedCropToTensor(image: RgbImage, outWidth: number, outHeight: number, mean: readonly number[], std: readonly number[], flip: boolean, out?: Float32Array): ImageTensor {
  const k = instance()!;
  const { width, height, data } = image;
  const base = k.heap_base();
  const need = base + k.workspace_bytes(width, height, outWidth, outHeight);
  if (need > k.memory.buffer.byteLength) k.memory.grow(Math.ceil((need - k.memory.buffer.byteLength) / 65536));
  new Uint8Array(k.memory.buffer, base, data.length).set(data);
  const m = (c: number) => mean[c % mean.length];
  const s = (c: number) => std[c % std.length];
  const at = k.crop_resize_normalize(width, height, outWidth, outHeight, flip ? 1 : 0, m(0), m(1), m(2), s(0), s(1), s(2));
  const size = 3 * outWidth * outHeight;
  const t = imageTensor(3, outHeight, outWidth, out?.length === size ? out : undefined);
  t.data.set(new Float32Array(k.memory.buffer, at, size));
  return t;
}
