import { rgbImage, type RgbImage } from '../image.ts';

/**
 * Affine warps with PIL's Image.transform(AFFINE) sampling: each output pixel centre maps
 * through the inverse matrix into the source; pixels landing outside take the fill colour.
 */
export type AffineInterpolation = 'nearest' | 'bilinear';
export type Matrix = [number, number, number, number, number, number];

export function warpAffine(image: RgbImage, inverse: Matrix, interpolation: AffineInterpolation = 'nearest', fill: readonly number[] = [0, 0, 0]): RgbImage {
  const { width, height, data } = image;
  const out = rgbImage(width, height);
  const [a, b, c, d, e, f] = inverse;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const xin = a * (x + 0.5) + b * (y + 0.5) + c;
      const yin = d * (x + 0.5) + e * (y + 0.5) + f;
      const q = (y * width + x) * 3;
      if (interpolation === 'nearest') {
        const xi = xin < 0 ? -1 : Math.trunc(xin);
        const yi = yin < 0 ? -1 : Math.trunc(yin);
        if (xi >= 0 && xi < width && yi >= 0 && yi < height) {
          const p = (yi * width + xi) * 3;
          out.data[q] = data[p];
          out.data[q + 1] = data[p + 1];
          out.data[q + 2] = data[p + 2];
        } else {
          out.data[q] = fill[0];
          out.data[q + 1] = fill[1];
          out.data[q + 2] = fill[2];
        }
      } else {
        sampleBilinear(image, xin - 0.5, yin - 0.5, fill, out.data, q);
      }
    }
  }
  return out;
}

function sampleBilinear(image: RgbImage, x: number, y: number, fill: readonly number[], out: Uint8Array, q: number): void {
  const { width, height, data } = image;
  if (x < -1 || x >= width || y < -1 || y >= height) {
    out[q] = fill[0];
    out[q + 1] = fill[1];
    out[q + 2] = fill[2];
    return;
  }
  const x0 = Math.floor(x);
  const y0 = Math.floor(y);
  const dx = x - x0;
  const dy = y - y0;
  const at = (xi: number, yi: number, c: number) =>
    data[(Math.min(Math.max(yi, 0), height - 1) * width + Math.min(Math.max(xi, 0), width - 1)) * 3 + c];
  for (let c = 0; c < 3; c++) {
    const top = at(x0, y0, c) + dx * (at(x0 + 1, y0, c) - at(x0, y0, c));
    const bottom = at(x0, y0 + 1, c) + dx * (at(x0 + 1, y0 + 1, c) - at(x0, y0 + 1, c));
    out[q + c] = Math.round(top + dy * (bottom - top));
  }
}

/** torchvision's _get_inverse_affine_matrix: rotation, shear (degrees) and scale about a centre. */
export function inverseAffineMatrix(center: [number, number], angle: number, translate: [number, number], scale: number, shear: [number, number]): Matrix {
  const rot = (angle * Math.PI) / 180;
  const sx = (shear[0] * Math.PI) / 180;
  const sy = (shear[1] * Math.PI) / 180;
  const [cx, cy] = center;
  const [tx, ty] = translate;
  const a = Math.cos(rot - sy) / Math.cos(sy);
  const b = (-Math.cos(rot - sy) * Math.tan(sx)) / Math.cos(sy) - Math.sin(rot);
  const c = Math.sin(rot - sy) / Math.cos(sy);
  const d = (-Math.sin(rot - sy) * Math.tan(sx)) / Math.cos(sy) + Math.cos(rot);
  const m: Matrix = [d / scale, -b / scale, 0, -c / scale, a / scale, 0];
  m[2] += m[0] * (-cx - tx) + m[1] * (-cy - ty);
  m[5] += m[3] * (-cx - tx) + m[4] * (-cy - ty);
  m[2] += cx;
  m[5] += cy;
  return m;
}

/** F.affine on a PIL image; the centre defaults to the image centre. */
export function affine(image: RgbImage, params: { angle?: number; translate?: [number, number]; scale?: number; shear?: [number, number]; center?: [number, number] }, interpolation: AffineInterpolation = 'nearest', fill?: readonly number[]): RgbImage {
  const center = params.center ?? [image.width * 0.5, image.height * 0.5];
  const m = inverseAffineMatrix(center, params.angle ?? 0, params.translate ?? [0, 0], params.scale ?? 1, params.shear ?? [0, 0]);
  return warpAffine(image, m, interpolation, fill);
}

/** PIL's Image.rotate (counter-clockwise degrees, same canvas), as F.rotate uses it. */
export function rotate(image: RgbImage, angle: number, interpolation: AffineInterpolation = 'nearest', center?: [number, number], fill?: readonly number[]): RgbImage {
  const [cx, cy] = center ?? [image.width / 2, image.height / 2];
  const t = (-((((angle % 360) + 360) % 360)) * Math.PI) / 180;
  const r15 = (v: number) => Math.round(v * 1e15) / 1e15;
  const m: Matrix = [r15(Math.cos(t)), r15(Math.sin(t)), 0, r15(-Math.sin(t)), r15(Math.cos(t)), 0];
  m[2] = m[0] * -cx + m[1] * -cy + cx;
  m[5] = m[3] * -cx + m[4] * -cy + cy;
  return warpAffine(image, m, interpolation, fill);
}
