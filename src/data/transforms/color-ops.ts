import { rgbImage, type RgbImage } from '../image.ts';

/**
 * The colour operations torchvision applies to PIL images, with PIL's integer arithmetic:
 * ImageEnhance blends (truncating), the ITU-R 601 luma with 16-bit rounding, ImageOps' lookup
 * tables for posterize, solarize, autocontrast and equalize.
 */

/** PIL's Image.blend: a + alpha * (b - a) in single precision, clipped, truncated toward zero. */
export function blend(a: RgbImage, b: RgbImage, alpha: number): RgbImage {
  const out = rgbImage(a.width, a.height);
  const x = a.data;
  const y = b.data;
  const alpha32 = Math.fround(alpha);
  for (let i = 0; i < x.length; i++) {
    const v = Math.fround(x[i] + Math.fround(alpha32 * (y[i] - x[i])));
    out.data[i] = v <= 0 ? 0 : v >= 255 ? 255 : Math.trunc(v);
  }
  return out;
}

/** PIL's convert("L"), kept as one byte per pixel. */
export function luma(image: RgbImage): Uint8Array {
  const n = image.width * image.height;
  const out = new Uint8Array(n);
  const d = image.data;
  for (let i = 0; i < n; i++) out[i] = (d[i * 3] * 19595 + d[i * 3 + 1] * 38470 + d[i * 3 + 2] * 7471 + 0x8000) >>> 16;
  return out;
}

function grayToRgb(gray: Uint8Array, width: number, height: number): RgbImage {
  const out = rgbImage(width, height);
  for (let i = 0; i < gray.length; i++) out.data[i * 3] = out.data[i * 3 + 1] = out.data[i * 3 + 2] = gray[i];
  return out;
}

export function adjustBrightness(image: RgbImage, factor: number): RgbImage {
  return blend(rgbImage(image.width, image.height), image, factor);
}

export function adjustContrast(image: RgbImage, factor: number): RgbImage {
  const gray = luma(image);
  let sum = 0;
  for (const v of gray) sum += v;
  const mean = Math.trunc(sum / gray.length + 0.5);
  const degenerate = rgbImage(image.width, image.height, new Uint8Array(image.data.length).fill(mean));
  return blend(degenerate, image, factor);
}

export function adjustSaturation(image: RgbImage, factor: number): RgbImage {
  return blend(grayToRgb(luma(image), image.width, image.height), image, factor);
}

/** Shifts hue by `factor` turns (in [-0.5, 0.5]) through PIL's 8-bit HSV, as torchvision does. */
export function adjustHue(image: RgbImage, factor: number): RgbImage {
  const shift = ((Math.trunc(factor * 255) % 256) + 256) % 256;
  const out = rgbImage(image.width, image.height);
  const d = image.data;
  for (let i = 0; i < d.length; i += 3) {
    const [h, s, v] = rgbToHsv(d[i], d[i + 1], d[i + 2]);
    hsvToRgb((h + shift) & 0xff, s, v, out.data, i);
  }
  return out;
}

function rgbToHsv(r: number, g: number, b: number): [number, number, number] {
  const max = Math.max(r, g, b);
  const min = Math.min(r, g, b);
  if (max === min) return [0, 0, max];
  const cr = max - min;
  const s = cr / max;
  const rc = (max - r) / cr;
  const gc = (max - g) / cr;
  const bc = (max - b) / cr;
  let h = r === max ? bc - gc : g === max ? 2 + rc - bc : 4 + gc - rc;
  h = (((h / 6 + 1) % 1) + 1) % 1;
  return [Math.min(255, Math.trunc(h * 255)), Math.min(255, Math.trunc(s * 255)), max];
}

function hsvToRgb(h: number, s: number, v: number, out: Uint8Array, at: number): void {
  if (s === 0) {
    out[at] = out[at + 1] = out[at + 2] = v;
    return;
  }
  const hh = (h * 6) / 255;
  const ss = s / 255;
  const i = Math.floor(hh);
  const f = hh - i;
  const clip = (x: number) => Math.min(255, Math.max(0, Math.round(x)));
  const p = clip(v * (1 - ss));
  const q = clip(v * (1 - ss * f));
  const t = clip(v * (1 - ss * (1 - f)));
  const rgb = [[v, t, p], [q, v, p], [p, v, t], [p, q, v], [t, p, v], [v, p, q]][i % 6];
  out[at] = rgb[0];
  out[at + 1] = rgb[1];
  out[at + 2] = rgb[2];
}

/** ImageEnhance.Sharpness: blend with PIL's SMOOTH filter (3x3, centre 5, /13; edges kept). */
export function adjustSharpness(image: RgbImage, factor: number): RgbImage {
  const { width, height, data } = image;
  const smooth = rgbImage(width, height, data.slice());
  for (let y = 1; y < height - 1; y++) {
    for (let x = 1; x < width - 1; x++) {
      for (let c = 0; c < 3; c++) {
        let sum = 4 * data[(y * width + x) * 3 + c];
        for (let dy = -1; dy <= 1; dy++) {
          for (let dx = -1; dx <= 1; dx++) sum += data[((y + dy) * width + x + dx) * 3 + c];
        }
        smooth.data[(y * width + x) * 3 + c] = Math.round(sum / 13);
      }
    }
  }
  return blend(smooth, image, factor);
}

function applyLut(image: RgbImage, luts: Uint8Array[]): RgbImage {
  const out = rgbImage(image.width, image.height);
  for (let i = 0; i < image.data.length; i++) out.data[i] = luts[i % 3][image.data[i]];
  return out;
}

function histograms(image: RgbImage): Uint32Array[] {
  const h = [new Uint32Array(256), new Uint32Array(256), new Uint32Array(256)];
  for (let i = 0; i < image.data.length; i++) h[i % 3][image.data[i]]++;
  return h;
}

export function posterize(image: RgbImage, bits: number): RgbImage {
  const mask = ~((1 << (8 - bits)) - 1) & 0xff;
  const lut = new Uint8Array(256).map((_, i) => i & mask);
  return applyLut(image, [lut, lut, lut]);
}

export function solarize(image: RgbImage, threshold: number): RgbImage {
  const lut = new Uint8Array(256).map((_, i) => (i < threshold ? i : 255 - i));
  return applyLut(image, [lut, lut, lut]);
}

export function autocontrast(image: RgbImage): RgbImage {
  const luts = histograms(image).map((h) => {
    let lo = 0;
    while (lo < 256 && h[lo] === 0) lo++;
    let hi = 255;
    while (hi >= 0 && h[hi] === 0) hi--;
    const lut = new Uint8Array(256);
    if (hi <= lo) return lut.map((_, i) => i);
    const scale = 255 / (hi - lo);
    const offset = -lo * scale;
    return lut.map((_, i) => Math.min(255, Math.max(0, Math.trunc(i * scale + offset))));
  });
  return applyLut(image, luts);
}

export function equalize(image: RgbImage): RgbImage {
  const luts = histograms(image).map((h) => {
    const identity = new Uint8Array(256).map((_, i) => i);
    const used = [...h].filter((v) => v > 0);
    if (used.length <= 1) return identity;
    const step = Math.floor((used.reduce((a, b) => a + b, 0) - used[used.length - 1]) / 256);
    if (step === 0) return identity;
    const lut = new Uint8Array(256);
    let n = Math.floor(step / 2);
    for (let i = 0; i < 256; i++) {
      lut[i] = Math.min(255, Math.floor(n / step));
      n += h[i];
    }
    return lut;
  });
  return applyLut(image, luts);
}
