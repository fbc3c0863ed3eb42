import { expectImage, rgbImage, type RgbImage, type Sample } from '../image.ts';
import { checkSize, type Size } from './resize.ts';
import { registerTransform, roundHalfEven, type Transform, type TransformSpec } from './transform.ts';

/** PIL's crop: the box may extend past the image, and what lies outside is black. */
export function crop(image: RgbImage, top: number, left: number, height: number, width: number): RgbImage {
  const out = rgbImage(width, height);
  const x0 = Math.max(left, 0);
  const x1 = Math.min(left + width, image.width);
  if (x1 <= x0) return out;
  for (let y = Math.max(top, 0); y < Math.min(top + height, image.height); y++) {
    const from = (y * image.width + x0) * 3;
    out.data.set(image.data.subarray(from, from + (x1 - x0) * 3), ((y - top) * width + (x0 - left)) * 3);
  }
  return out;
}

/** torchvision's center_crop: Python's round for the offset, zero padding when the crop is larger. */
export function centerCrop(image: RgbImage, size: Size): RgbImage {
  const [height, width] = typeof size === 'number' ? [size, size] : size;
  if (width === image.width && height === image.height) return image;
  const top = height > image.height ? -Math.floor((height - image.height) / 2) : roundHalfEven((image.height - height) / 2);
  const left = width > image.width ? -Math.floor((width - image.width) / 2) : roundHalfEven((image.width - width) / 2);
  return crop(image, top, left, height, width);
}

export class CenterCrop implements Transform {
  readonly name = 'CenterCrop';
  readonly size: Size;

  constructor(size: Size) {
    this.size = checkSize('size', size);
  }

  apply(input: Sample): Sample {
    return centerCrop(expectImage(input, this.name), this.size);
  }

  spec(): TransformSpec {
    return { name: this.name, options: { size: this.size } };
  }
}

registerTransform('CenterCrop', (o) => new CenterCrop(o.size));
