import { checkNumber, invalidParameter } from '../../errors/index.ts';
import { expectImage, expectTensor, imageTensor, type ImageTensor, type RgbImage, type Sample } from '../image.ts';
import { registerTransform, type Transform, type TransformSpec } from './transform.ts';

/** HWC uint8 to CHW float in [0, 1], as torchvision's to_tensor. */
export function toTensor(image: RgbImage, out?: Float32Array): ImageTensor {
  const { width, height, data } = image;
  const plane = width * height;
  const t = imageTensor(3, height, width, out);
  const o = t.data;
  for (let i = 0, p = 0; i < plane; i++, p += 3) {
    o[i] = data[p] / 255;
    o[plane + i] = data[p + 1] / 255;
    o[2 * plane + i] = data[p + 2] / 255;
  }
  return t;
}

/**
 * ToTensor and Normalize (optionally after a horizontal flip) in one pass, with no intermediate
 * tensor. A 256-entry table per channel replaces the arithmetic: each byte maps to one float.
 */
export function toNormalizedTensor(image: RgbImage, mean: readonly number[], std: readonly number[], flip = false, out?: Float32Array): ImageTensor {
  const { width, height, data } = image;
  const plane = width * height;
  const t = imageTensor(3, height, width, out?.length === 3 * plane ? out : undefined);
  const o = t.data;
  const [l0, l1, l2] = [0, 1, 2].map((c) => {
    const lut = new Float32Array(256);
    for (let v = 0; v < 256; v++) lut[v] = (v / 255 - mean[c % mean.length]) / std[c % std.length];
    return lut;
  });
  const step = flip ? -3 : 3;
  for (let y = 0; y < height; y++) {
    const row = y * width;
    let p = (flip ? row + width - 1 : row) * 3;
    for (let x = 0; x < width; x++, p += step) {
      const i = row + x;
      o[i] = l0[data[p]];
      o[plane + i] = l1[data[p + 1]];
      o[2 * plane + i] = l2[data[p + 2]];
    }
  }
  return t;
}

/** (x - mean) / std per channel; returns a new tensor unless `inplace`. */
export function normalize(tensor: ImageTensor, mean: readonly number[], std: readonly number[], inplace = false): ImageTensor {
  const out = inplace ? tensor : imageTensor(tensor.channels, tensor.height, tensor.width);
  const plane = tensor.width * tensor.height;
  for (let c = 0; c < tensor.channels; c++) {
    const m = mean[c % mean.length];
    const s = std[c % std.length];
    const base = c * plane;
    for (let i = base; i < base + plane; i++) out.data[i] = (tensor.data[i] - m) / s;
  }
  return out;
}

export class ToTensor implements Transform {
  readonly name = 'ToTensor';

  apply(input: Sample): Sample {
    return toTensor(expectImage(input, this.name));
  }

  spec(): TransformSpec {
    return { name: this.name, options: {} };
  }
}

export class Normalize implements Transform {
  readonly name = 'Normalize';
  readonly mean: number[];
  readonly std: number[];
  readonly inplace: boolean;

  constructor(mean: readonly number[], std: readonly number[], inplace = false) {
    this.mean = checkChannels('mean', mean);
    this.std = checkChannels('std', std);
    this.std.forEach((s, i) => {
      if (s === 0) throw invalidParameter(`std[${i}]`, 'non-zero number (division by zero)', s);
    });
    this.inplace = inplace;
  }

  apply(input: Sample): Sample {
    return normalize(expectTensor(input, this.name), this.mean, this.std, this.inplace);
  }

  spec(): TransformSpec {
    return { name: this.name, options: { mean: this.mean, std: this.std, inplace: this.inplace } };
  }
}

function checkChannels(name: string, values: unknown): number[] {
  if (!Array.isArray(values) || (values.length !== 1 && values.length !== 3)) {
    throw invalidParameter(name, 'an array of 1 or 3 numbers', values);
  }
  return values.map((v, i) => checkNumber(`${name}[${i}]`, v));
}

registerTransform('ToTensor', () => new ToTensor());
registerTransform('Normalize', (o) => new Normalize(o.mean, o.std, o.inplace));
