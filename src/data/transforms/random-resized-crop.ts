import { checkRange } from '../../errors/index.ts';
import { expectImage, type RgbImage, type Sample } from '../image.ts';
import type { Rng } from '../rng.ts';
import { resample, type Interpolation } from './resample.ts';
import { checkInterpolation, checkSize, type Size } from './resize.ts';
import { defaultRng, registerTransform, roundHalfEven, type Transform, type TransformSpec } from './transform.ts';

export interface CropBox {
  top: number;
  left: number;
  height: number;
  width: number;
}

export interface RandomResizedCropOptions {
  scale?: readonly [number, number];
  ratio?: readonly [number, number];
  interpolation?: Interpolation;
}

/** Crops a random area and aspect ratio, then resizes it: the standard ImageNet training crop. */
export class RandomResizedCrop implements Transform {
  readonly name = 'RandomResizedCrop';
  readonly size: [number, number];
  readonly scale: [number, number];
  readonly ratio: [number, number];
  readonly interpolation: Interpolation;

  constructor(size: Size, options: RandomResizedCropOptions = {}) {
    const s = checkSize('size', size);
    this.size = typeof s === 'number' ? [s, s] : [s[0], s[1]];
    this.scale = checkRange('scale', options.scale ?? [0.08, 1], { min: 0 });
    this.ratio = checkRange('ratio', options.ratio ?? [3 / 4, 4 / 3], { minExclusive: 0 });
    this.interpolation = checkInterpolation(options.interpolation ?? 'bilinear');
  }

  /** torchvision's get_params: ten tries at a random box, then a central crop of clamped ratio. */
  static getParams(width: number, height: number, scale: readonly [number, number], ratio: readonly [number, number], rng: Rng): CropBox {
    const area = width * height;
    const logRatio = [Math.log(ratio[0]), Math.log(ratio[1])];
    for (let attempt = 0; attempt < 10; attempt++) {
      const targetArea = area * rng.uniform(scale[0], scale[1]);
      const aspect = Math.exp(rng.uniform(logRatio[0], logRatio[1]));
      const w = roundHalfEven(Math.sqrt(targetArea * aspect));
      const h = roundHalfEven(Math.sqrt(targetArea / aspect));
      if (w > 0 && w <= width && h > 0 && h <= height) {
        const top = rng.int(0, height - h + 1);
        const left = rng.int(0, width - w + 1);
        return { top, left, height: h, width: w };
      }
    }
    const inRatio = width / height;
    let w = width;
    let h = height;
    if (inRatio < Math.min(...ratio)) h = roundHalfEven(w / Math.min(...ratio));
    else if (inRatio > Math.max(...ratio)) w = roundHalfEven(h * Math.max(...ratio));
    return { top: Math.floor((height - h) / 2), left: Math.floor((width - w) / 2), height: h, width: w };
  }

  apply(input: Sample, rng: Rng = defaultRng()): Sample {
    const image = expectImage(input, this.name);
    const box = RandomResizedCrop.getParams(image.width, image.height, this.scale, this.ratio, rng);
    return resizedCrop(image, box, this.size, this.interpolation);
  }

  spec(): TransformSpec {
    return { name: this.name, options: { size: this.size, scale: this.scale, ratio: this.ratio, interpolation: this.interpolation } };
  }
}

/** Crop then resize as one resampling pass over the box (same pixels as crop followed by resize). */
export function resizedCrop(image: RgbImage, box: CropBox, size: readonly [number, number], interpolation: Interpolation = 'bilinear'): RgbImage {
  return resample(image, size[1], size[0], interpolation, box);
}

registerTransform('RandomResizedCrop', (o) => new RandomResizedCrop(o.size, o));
