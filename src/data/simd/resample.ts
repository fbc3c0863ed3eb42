import { RESAMPLE_WASM } from './resample-wasm.ts';

interface Exports {
  memory: WebAssembly.Memory;
  heap_base(): number;
  horizontal(src: number, srcWidth: number, left: number, rows: number, out: number, outWidth: number, bounds: number, weights: number, ksize: number): void;
  vertical(src: number, rowLen: number, out: number, outHeight: number, bounds: number, weights: number, ksize: number, acc: number): void;
}

/** One pass's coefficients, as resample.ts computes them: (first tap, taps) per output pixel, ksize fixed-point weights each. */
export interface PassCoefficients {
  ksize: number;
  bounds: Int32Array;
  weights: Int32Array;
}

/** Images needing more working memory than this go the JavaScript way rather than grow every thread's WebAssembly memory. */
const MAX_WORKSPACE = 256 << 20;

let kernel: Exports | null | undefined;

/** One instance per thread, compiled on first use; null where WebAssembly SIMD is unavailable. */
function instance(): Exports | null {
  if (kernel !== undefined) return kernel;
  try {
    kernel = new WebAssembly.Instance(new WebAssembly.Module(Buffer.from(RESAMPLE_WASM, 'base64'))).exports as unknown as Exports;
  } catch {
    kernel = null;
  }
  return kernel;
}

/** Whether this thread runs the kernel (Node has had WebAssembly SIMD since 16). */
export function resampleKernelAvailable(): boolean {
  return instance() !== null;
}

/**
 * Both passes of the resample in WebAssembly, with the integer arithmetic of the JavaScript passes
 * (so the same pixels, several times faster): `rows` rows of `src` starting at row `top` and
 * column `left` go through the horizontal pass, then the vertical pass. Returns the
 * outWidth x outHeight RGB bytes, or null where the kernel cannot run (the caller then runs the
 * passes in JavaScript).
 */
export function resampleBothPasses(
  src: Uint8Array, srcWidth: number, top: number, left: number, rows: number,
  horizontal: PassCoefficients, vertical: PassCoefficients, outWidth: number, outHeight: number,
): Uint8Array | null {
  const k = instance();
  if (!k) return null;
  const rowBytes = srcWidth * 3;
  const inBytes = rows * rowBytes;
  const tmpBytes = rows * outWidth * 3;
  const outBytes = outHeight * outWidth * 3;
  const align = (n: number) => (n + 15) & ~15;
  const base = align(k.heap_base());
  const at = { src: base, tmp: 0, out: 0, hb: 0, hw: 0, vb: 0, vw: 0, acc: 0, end: 0 };
  at.tmp = align(at.src + inBytes);
  at.out = align(at.tmp + tmpBytes);
  at.hb = align(at.out + outBytes);
  at.hw = align(at.hb + horizontal.bounds.byteLength);
  at.vb = align(at.hw + horizontal.weights.byteLength);
  at.vw = align(at.vb + vertical.bounds.byteLength);
  at.acc = align(at.vw + vertical.weights.byteLength);
  at.end = at.acc + outWidth * 3 * 4;
  if (at.end - base > MAX_WORKSPACE) return null;
  if (at.end > k.memory.buffer.byteLength) k.memory.grow(Math.ceil((at.end - k.memory.buffer.byteLength) / 65536));
  const heap = new Uint8Array(k.memory.buffer);
  heap.set(src.subarray(top * rowBytes, top * rowBytes + inBytes), at.src);
  new Int32Array(k.memory.buffer, at.hb, horizontal.bounds.length).set(horizontal.bounds);
  new Int32Array(k.memory.buffer, at.hw, horizontal.weights.length).set(horizontal.weights);
  new Int32Array(k.memory.buffer, at.vb, vertical.bounds.length).set(vertical.bounds);
  new Int32Array(k.memory.buffer, at.vw, vertical.weights.length).set(vertical.weights);
  k.horizontal(at.src, srcWidth, left, rows, at.tmp, outWidth, at.hb, at.hw, horizontal.ksize);
  k.vertical(at.tmp, outWidth * 3, at.out, outHeight, at.vb, at.vw, vertical.ksize, at.acc);
  return heap.slice(at.out, at.out + outBytes);
}
