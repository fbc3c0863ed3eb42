import { checkChoice, checkInteger, invalidParameter } from '../../errors/index.ts';
import { expectImage, type RgbImage, type Sample } from '../image.ts';
import { INTERPOLATIONS, resample, type Interpolation } from './resample.ts';
import { registerTransform, type Transform, type TransformSpec } from './transform.ts';

/** An int resizes the shorter side (keeping the aspect ratio); [h, w] sets both. */
export type Size = number | readonly [number, number];

export interface ResizeOptions {
  interpolation?: Interpolation;
  /** With an int size: the longer side is capped at this, as torchvision's max_size. */
  maxSize?: number;
}

/** torchvision's _compute_resized_output_size, including its truncation of the long side. */
export function resizedSize(width: number, height: number, size: Size, maxSize?: number): { width: number; height: number } {
  if (typeof size !== 'number') return { width: size[1], height: size[0] };
  const [short, long] = width <= height ? [width, height] : [height, width];
  let newShort = size;
  let newLong = Math.trunc((size * long) / short);
  if (maxSize !== undefined) {
    if (maxSize <= size) throw invalidParameter('maxSize', `integer greater than size (${size})`, maxSize);
    if (newLong > maxSize) {
      newShort = Math.trunc((maxSize * newShort) / newLong);
      newLong = maxSize;
    }
  }
  return width <= height ? { width: newShort, height: newLong } : { width: newLong, height: newShort };
}

export function resize(image: RgbImage, size: Size, interpolation: Interpolation = 'bilinear', maxSize?: number): RgbImage {
  const out = resizedSize(image.width, image.height, size, maxSize);
  if (out.width === image.width && out.height === image.height) return image;
  return resample(image, out.width, out.height, interpolation);
}

export function checkSize(name: string, size: unknown): Size {
  if (typeof size === 'number') return checkInteger(name, size, { min: 1 });
  if (Array.isArray(size) && size.length === 2) {
    return [checkInteger(`${name}[0]`, size[0], { min: 1 }), checkInteger(`${name}[1]`, size[1], { min: 1 })];
  }
  throw invalidParameter(name, 'a positive integer or [height, width]', size);
}

export function checkInterpolation(value: unknown): Interpolation {
  return checkChoice('interpolation', value, INTERPOLATIONS);
}

/** Resize(256): bilinear with PIL's antialiasing, identical to torchvision on PIL images. */
export class Resize implements Transform {
  readonly name = 'Resize';
  readonly size: Size;
  readonly interpolation: Interpolation;
  readonly maxSize?: number;

  constructor(size: Size, options: ResizeOptions = {}) {
    this.size = checkSize('size', size);
    this.interpolation = checkInterpolation(options.interpolation ?? 'bilinear');
    if (options.maxSize !== undefined) this.maxSize = checkInteger('maxSize', options.maxSize, { min: 1 });
  }

  apply(input: Sample): Sample {
    return resize(expectImage(input, this.name), this.size, this.interpolation, this.maxSize);
  }

  spec(): TransformSpec {
    return { name: this.name, options: { size: this.size, interpolation: this.interpolation, maxSize: this.maxSize } };
  }
}

registerTransform('Resize', (o) => new Resize(o.size, o));
