import { checkNumber } from '../../errors/index.ts';
import { imageTensor, rgbImage, type ImageTensor, type RgbImage, type Sample } from '../image.ts';
import type { Rng } from '../rng.ts';
import { defaultRng, registerTransform, type Transform, type TransformSpec } from './transform.ts';

export function hflip(image: RgbImage): RgbImage;
export function hflip(tensor: ImageTensor): ImageTensor;
export function hflip(input: Sample): Sample;
export function hflip(input: Sample): Sample {
  return input.kind === 'image' ? flipImage(input) : flipTensor(input);
}

function flipImage(image: RgbImage): RgbImage {
  const { width, height, data } = image;
  const out = rgbImage(width, height);
  for (let y = 0; y < height; y++) {
    const row = y * width * 3;
    for (let x = 0; x < width; x++) {
      const p = row + x * 3;
      const q = row + (width - 1 - x) * 3;
      out.data[q] = data[p];
      out.data[q + 1] = data[p + 1];
      out.data[q + 2] = data[p + 2];
    }
  }
  return out;
}

function flipTensor(t: ImageTensor): ImageTensor {
  const out = imageTensor(t.channels, t.height, t.width);
  for (let r = 0; r < t.channels * t.height; r++) {
    const row = r * t.width;
    for (let x = 0; x < t.width; x++) out.data[row + x] = t.data[row + t.width - 1 - x];
  }
  return out;
}

export class RandomHorizontalFlip implements Transform {
  readonly name = 'RandomHorizontalFlip';
  readonly p: number;

  constructor(p = 0.5) {
    this.p = checkNumber('p', p, { min: 0, max: 1 });
  }

  apply(input: Sample, rng: Rng = defaultRng()): Sample {
    return rng.random() < this.p ? hflip(input) : input;
  }

  spec(): TransformSpec {
    return { name: this.name, options: { p: this.p } };
  }
}

registerTransform('RandomHorizontalFlip', (o) => new RandomHorizontalFlip(o.p));
