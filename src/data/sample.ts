import { decodeImage } from './decode.ts';
import { invalidType, received } from '../errors/index.ts';
import { Normalize, ToTensor, toTensor } from './transforms/tensor.ts';
import { RandomHorizontalFlip } from './transforms/flip.ts';
import { canResizeToTensor, resizedCropToTensor } from './simd/crop-resize.ts';
import { imageTensor, type ImageTensor, type Sample } from './image.ts';
import { Compose } from './transforms/compose.ts';
import { RandomResizedCrop } from './transforms/random-resized-crop.ts';
import { Rng } from './rng.ts';
import type { Transform } from './transforms/transform.ts';

/**
 * Which implementation produced a sample's pixels: raised whenever decoding or resampling changes
 * them, so features cached from older pixels are not mixed with new ones. 2: training crops
 * resized by the SIMD kernel (PIL's filter) instead of libvips' linear kernel.
 */
export const PIXEL_PIPELINE_VERSION = 2;

export interface LoadSampleOptions {
  maxPixels?: number;
  /** Crop and resize a leading bilinear RandomResizedCrop inside the decoder (see DataLoaderOptions). */
  nativeCrop?: boolean;
  syncRead?: boolean;
  /** Where the tensor should land (a batch slot); used when the output has exactly its length. */
  out?: Float32Array;
}

/**
 * Decode one file and run the transform with a generator seeded from (seed, epoch, index): the
 * result is the same whichever thread computes it and in whatever order.
 */
export async function loadSample(file: string | Uint8Array, transform: Transform | undefined, seeds: readonly number[], options: LoadSampleOptions = {}): Promise<ImageTensor> {
  const { maxPixels, nativeCrop = true, syncRead = false, out } = options;
  const rng = new Rng(seeds);
  const steps = transform instanceof Compose ? transform.transforms : transform ? [transform] : [];
  let x: Sample;
  if (nativeCrop && steps[0] instanceof RandomResizedCrop && steps[0].interpolation === 'bilinear') {
    const tail = tensorTail(steps, 1);
    x = await decodeRandomCrop(file, steps[0], rng, maxPixels, syncRead, !!tail);
    if (tail && x.kind === 'image' && (x.width !== steps[0].size[1] || x.height !== steps[0].size[0])) {
      // The decoded crop, resized, flipped and normalized in one pass.
      const flip = tail.flip ? rng.random() < tail.flip.p : false;
      x = resizedCropToTensor(x, steps[0].size[1], steps[0].size[0], tail.mean, tail.std, flip, out);
    } else {
      x = new Compose(steps.slice(1)).apply(x, rng, out);
    }
  } else {
    const image = await decodeImage(file, { maxPixels, syncRead });
    x = transform instanceof Compose ? transform.apply(image, rng, out) : transform ? transform.apply(image, rng) : toTensor(image, out?.length === image.width * image.height * 3 ? out : undefined);
  }
  if (x.kind !== 'tensor') throw invalidType('the output of the loader transform', 'an ImageTensor (end the pipeline with ToTensor)', received('an RgbImage'));
  if (out && x.data !== out && x.data.length === out.length) {
    out.set(x.data);
    return imageTensor(x.channels, x.height, x.width, out);
  }
  return x;
}

/**
 * RandomResizedCrop fused into decoding: its box is drawn from the header's size with the same
 * generator calls as RandomResizedCrop.apply, then libvips decodes only that box. With `cropOnly`
 * (a tensor tail follows, see tensorTail) the crop comes back at its own size for
 * resizedCropToTensor; otherwise libvips also resizes it.
 */
async function decodeRandomCrop(file: string | Uint8Array, rrc: RandomResizedCrop, rng: Rng, maxPixels: number | undefined, syncRead: boolean, cropOnly: boolean): Promise<Sample> {
  const [outHeight, outWidth] = rrc.size;
  const cropResize = (width: number, height: number) => {
    const box = RandomResizedCrop.getParams(width, height, rrc.scale, rrc.ratio, rng);
    const own = cropOnly && canResizeToTensor(box.width, box.height, outWidth, outHeight);
    return { region: box, width: own ? box.width : outWidth, height: own ? box.height : outHeight };
  };
  return decodeImage(file, { maxPixels, cropResize, syncRead });
}

/**
 * The transforms from `start` when they are [RandomHorizontalFlip,] ToTensor[, Normalize]: what
 * resizedCropToTensor does in one pass, with the same generator draw for the flip.
 */
function tensorTail(steps: readonly Transform[], start: number): { flip?: RandomHorizontalFlip; mean: readonly number[]; std: readonly number[] } | null {
  let i = start;
  const flip = steps[i] instanceof RandomHorizontalFlip ? (steps[i++] as RandomHorizontalFlip) : undefined;
  if (!(steps[i++] instanceof ToTensor)) return null;
  if (i === steps.length) return { flip, mean: [0], std: [1] };
  const norm = steps[i];
  if (i + 1 !== steps.length || !(norm instanceof Normalize) || norm.inplace || norm.mean.length !== 3 || norm.std.length !== 3) return null;
  return { flip, mean: norm.mean, std: norm.std };
}
