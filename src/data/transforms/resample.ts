import { rgbImage, type RgbImage } from '../image.ts';
import { resampleBothPasses } from '../simd/resample.ts';

/**
 * PIL's ImagingResample, reproduced step by step so Resize matches torchvision on PIL images:
 * a separable convolution whose support widens with the downscale factor (that widening is the
 * antialiasing), 22-bit fixed-point coefficients, a horizontal pass rounded to uint8, then a
 * vertical pass.
 */
export type Interpolation = 'nearest' | 'bilinear' | 'bicubic';

export const INTERPOLATIONS: readonly Interpolation[] = ['nearest', 'bilinear', 'bicubic'];

interface Filter {
  support: number;
  weight(x: number): number;
}

const FILTERS: Record<Exclude<Interpolation, 'nearest'>, Filter> = {
  bilinear: { support: 1, weight: (x) => { x = Math.abs(x); return x < 1 ? 1 - x : 0; } },
  bicubic: {
    support: 2,
    weight: (x) => {
      const a = -0.5;
      x = Math.abs(x);
      if (x < 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
      if (x < 2) return (((x - 5) * x + 8) * x - 4) * a;
      return 0;
    },
  },
};

const PRECISION_BITS = 32 - 8 - 2;

/** A source rectangle treated as the whole image: crop-then-resize without copying the crop. */
export interface Region {
  left: number;
  top: number;
  width: number;
  height: number;
}

interface Coefficients {
  ksize: number;
  /** Per output pixel: first source index (region-relative) and tap count. */
  bounds: Int32Array;
  /** Fixed-point weights, ksize per output pixel. */
  weights: Int32Array;
}

function coefficients(inSize: number, outSize: number, filter: Filter): Coefficients {
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = filter.support * filterScale;
  const ksize = Math.ceil(support) * 2 + 1;
  const bounds = new Int32Array(outSize * 2);
  const weights = new Int32Array(outSize * ksize);
  const k = new Float64Array(ksize);
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    const xmin = Math.max(Math.trunc(center - support + 0.5), 0);
    const xmax = Math.min(Math.trunc(center + support + 0.5), inSize) - xmin;
    let total = 0;
    for (let x = 0; x < xmax; x++) {
      k[x] = filter.weight((x + xmin - center + 0.5) / filterScale);
      total += k[x];
    }
    for (let x = 0; x < xmax; x++) {
      const w = total !== 0 ? k[x] / total : k[x];
      weights[xx * ksize + x] = Math.trunc(w < 0 ? -0.5 + w * (1 << PRECISION_BITS) : 0.5 + w * (1 << PRECISION_BITS));
    }
    bounds[xx * 2] = xmin;
    bounds[xx * 2 + 1] = xmax;
  }
  return { ksize, bounds, weights };
}

function clip8(v: number): number {
  const x = v >> PRECISION_BITS;
  return x < 0 ? 0 : x > 255 ? 255 : x;
}

/**
 * Resamples `region` of `src` (default: all of it) to outWidth x outHeight. With `window`, only
 * that box of the output is computed and returned (a resize followed by a crop, without computing
 * what the crop discards); each output pixel is the same either way.
 */
export function resample(src: RgbImage, outWidth: number, outHeight: number, interpolation: Interpolation = 'bilinear', region?: Region, window?: Region): RgbImage {
  return resampleWith(src, outWidth, outHeight, interpolation, region, window, true);
}

/** resample without the WebAssembly kernel: the reference its output is tested against. */
export function resampleInJavaScript(src: RgbImage, outWidth: number, outHeight: number, interpolation: Interpolation = 'bilinear', region?: Region, window?: Region): RgbImage {
  return resampleWith(src, outWidth, outHeight, interpolation, region, window, false);
}

function resampleWith(src: RgbImage, outWidth: number, outHeight: number, interpolation: Interpolation, region: Region | undefined, window: Region | undefined, kernel: boolean): RgbImage {
  const r = region ?? { left: 0, top: 0, width: src.width, height: src.height };
  const w = window ?? { left: 0, top: 0, width: outWidth, height: outHeight };
  if (interpolation === 'nearest') return resampleNearest(src, outWidth, outHeight, r, w);
  const filter = FILTERS[interpolation];
  const needHorizontal = outWidth !== r.width || r.left !== 0 || r.width !== src.width || w.width !== outWidth;
  const needVertical = outHeight !== r.height || r.top !== 0 || r.height !== src.height || w.height !== outHeight;
  if (!needHorizontal && !needVertical) return rgbImage(src.width, src.height, src.data.slice());
  const vert = windowOf(coefficients(r.height, outHeight, filter), w.top, w.height);
  // Only the source rows the vertical pass will read go through the horizontal pass.
  const firstRow = vert.bounds[0];
  const lastRow = vert.bounds[w.height * 2 - 2] + vert.bounds[w.height * 2 - 1];
  if (!needHorizontal) {
    for (let i = 0; i < w.height; i++) vert.bounds[i * 2] += r.top;
    return verticalPass(src, w.height, vert);
  }
  const horiz = windowOf(coefficients(r.width, outWidth, filter), w.left, w.width);
  if (needVertical) for (let i = 0; i < w.height; i++) vert.bounds[i * 2] -= firstRow;
  if (kernel && needVertical) {
    const pixels = resampleBothPasses(src.data, src.width, r.top + firstRow, r.left, lastRow - firstRow, horiz, vert, w.width, w.height);
    if (pixels) return rgbImage(w.width, w.height, pixels);
  }
  const tmp = horizontalPass(src, r, firstRow, lastRow, w.width, horiz);
  return needVertical ? verticalPass(tmp, w.height, vert) : tmp;
}

/** The coefficients of output pixels start .. start + count - 1 only. */
function windowOf(c: Coefficients, start: number, count: number): Coefficients {
  if (start === 0 && count * 2 === c.bounds.length) return c;
  return { ksize: c.ksize, bounds: c.bounds.slice(start * 2, (start + count) * 2), weights: c.weights.subarray(start * c.ksize, (start + count) * c.ksize) };
}

function horizontalPass(src: RgbImage, r: Region, firstRow: number, lastRow: number, outWidth: number, c: Coefficients): RgbImage {
  const rows = lastRow - firstRow;
  const out = rgbImage(outWidth, rows);
  const { ksize, bounds, weights } = c;
  const s = src.data;
  const o = out.data;
  const half = 1 << (PRECISION_BITS - 1);
  for (let y = 0; y < rows; y++) {
    const rowStart = ((r.top + firstRow + y) * src.width + r.left) * 3;
    const outRow = y * outWidth * 3;
    for (let xx = 0; xx < outWidth; xx++) {
      const xmin = bounds[xx * 2];
      const xmax = bounds[xx * 2 + 1];
      const kOff = xx * ksize;
      // Int32 arithmetic throughout: the sums stay below 2^31 and V8 keeps them unboxed.
      let s0 = half, s1 = half, s2 = half;
      let p = rowStart + xmin * 3;
      for (let x = 0; x < xmax; x++, p += 3) {
        const w = weights[kOff + x];
        s0 = (s0 + Math.imul(s[p], w)) | 0;
        s1 = (s1 + Math.imul(s[p + 1], w)) | 0;
        s2 = (s2 + Math.imul(s[p + 2], w)) | 0;
      }
      const q = outRow + xx * 3;
      o[q] = clip8(s0);
      o[q + 1] = clip8(s1);
      o[q + 2] = clip8(s2);
    }
  }
  return out;
}

function verticalPass(src: RgbImage, outHeight: number, c: Coefficients): RgbImage {
  const width = src.width;
  const rowLen = width * 3;
  const out = rgbImage(width, outHeight);
  const { ksize, bounds, weights } = c;
  const s = src.data;
  const o = out.data;
  const acc = new Int32Array(rowLen);
  const half = 1 << (PRECISION_BITS - 1);
  for (let yy = 0; yy < outHeight; yy++) {
    const ymin = bounds[yy * 2];
    const ymax = bounds[yy * 2 + 1];
    acc.fill(half);
    // Row-at-a-time accumulation keeps memory access sequential.
    for (let y = 0; y < ymax; y++) {
      const w = weights[yy * ksize + y];
      const base = (ymin + y) * rowLen;
      for (let i = 0; i < rowLen; i++) acc[i] = (acc[i] + Math.imul(s[base + i], w)) | 0;
    }
    const outRow = yy * rowLen;
    for (let i = 0; i < rowLen; i++) o[outRow + i] = clip8(acc[i]);
  }
  return out;
}

/** PIL's nearest resize: sample at the centre of each output pixel mapped into the source. */
function resampleNearest(src: RgbImage, outWidth: number, outHeight: number, r: Region, w: Region): RgbImage {
  const out = rgbImage(w.width, w.height);
  const sx = r.width / outWidth;
  const sy = r.height / outHeight;
  for (let y = 0; y < w.height; y++) {
    const yi = r.top + Math.min(Math.floor((y + w.top + 0.5) * sy), r.height - 1);
    for (let x = 0; x < w.width; x++) {
      const xi = r.left + Math.min(Math.floor((x + w.left + 0.5) * sx), r.width - 1);
      const p = (yi * src.width + xi) * 3;
      const q = (y * w.width + x) * 3;
      out.data[q] = src.data[p];
      out.data[q + 1] = src.data[p + 1];
      out.data[q + 2] = src.data[p + 2];
    }
  }
  return out;
}
