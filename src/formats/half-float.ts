/**
 * float16 and bfloat16, bit patterns in a number or a Uint16Array, to and from float32 values:
 * the rounding PyTorch's `.half()` and `.bfloat16()` use, and the decoding of every reader that
 * meets half floats (.pth, safetensors, ONNX initializers, TF.js weights).
 */

let halfTable: Float32Array | undefined;

/** All 65536 float16 values, so decoding a half tensor is one lookup per element. */
function halfToFloatTable(): Float32Array {
  if (halfTable) return halfTable;
  halfTable = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >> 10) & 0x1f;
    const frac = h & 0x3ff;
    if (exp === 0) halfTable[h] = sign * frac * 2 ** -24;
    else if (exp === 31) halfTable[h] = frac ? NaN : sign * Infinity;
    else halfTable[h] = sign * (1 + frac / 1024) * 2 ** (exp - 15);
  }
  return halfTable;
}

/** float16 bits -> the float32 value they stand for. */
export function halfToFloat(bits: number): number {
  return halfToFloatTable()[bits & 0xffff];
}

export function halfToFloats(bits: Uint16Array): Float32Array {
  const table = halfToFloatTable();
  const out = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) out[i] = table[bits[i]];
  return out;
}

/** bfloat16 is the top half of a float32. */
export function bfloat16ToFloats(bits: Uint16Array): Float32Array {
  const wide = new Uint32Array(bits.length);
  for (let i = 0; i < bits.length; i++) wide[i] = bits[i] << 16;
  return new Float32Array(wide.buffer);
}

const scratchF32 = new Float32Array(1);
const scratchU32 = new Uint32Array(scratchF32.buffer);

/** float32 -> float16 bits, rounding to nearest even like PyTorch's `.half()`. */
export function floatToHalf(value: number): number {
  scratchF32[0] = value;
  const x = scratchU32[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let half = mant >>> shift;
    const rest = mant & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    if (rest > mid || (rest === mid && half & 1)) half++;
    return sign | half;
  }
  let half = (e << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  // A carry out of the mantissa correctly bumps the exponent (up to infinity).
  if (rest > 0x1000 || (rest === 0x1000 && half & 1)) half++;
  return sign | half;
}

/** float32 -> bfloat16 bits, rounding to nearest even; NaN stays NaN. */
export function floatToBfloat16(value: number): number {
  scratchF32[0] = value;
  const x = scratchU32[0];
  if ((x & 0x7fffffff) > 0x7f800000) return (x >>> 16) | 0x40;
  return ((x + 0x7fff + ((x >>> 16) & 1)) >>> 16) & 0xffff;
}
