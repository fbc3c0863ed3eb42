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

/** Where torchvision's center_crop cuts an image of this size: Python's round for the offset; negative where it pads. */
export function centerCropBox(imageWidth: number, imageHeight: number, size: Size): { top: number; left: number; height: number; width: number } {
  const [height, width] = typeof size === 'number' ? [size, size] : size;
  const top = height > imageHeight ? -Math.floor((height - imageHeight) / 2) : roundHalfEven((imageHeight - height) / 2);
  const left = width > imageWidth ? -Math.floor((width - imageWidth) / 2) : roundHalfEven((imageWidth - width) / 2);
  return { top, left, height, width };
}

/** torchvision's center_crop: zero padding when the crop is larger. */
export function centerCrop(image: RgbImage, size: Size): RgbImage {
  const box = centerCropBox(image.width, image.height, size);
  if (box.width === image.width && box.height === image.height) return image;
  return crop(image, box.top, box.left, box.height, box.width);
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
