import { decodeImage } from './decode.ts';
import { invalidType } from './errors.ts';
import { toTensor } from './transforms/tensor.ts';
import { imageTensor, type ImageTensor, type Sample } from './image.ts';
import { Compose } from './transforms/compose.ts';
import { RandomResizedCrop } from './transforms/random-resized-crop.ts';
import { Rng } from './rng.ts';
import type { Transform } from './transforms/transform.ts';

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
export async function loadSample(file: string, transform: Transform | undefined, seeds: readonly number[], options: LoadSampleOptions = {}): Promise<ImageTensor> {
  const { maxPixels, nativeCrop = true, syncRead = false, out } = options;
  const rng = new Rng(seeds);
  const steps = transform instanceof Compose ? transform.transforms : transform ? [transform] : [];
  let x: Sample;
  if (nativeCrop && steps[0] instanceof RandomResizedCrop && steps[0].interpolation === 'bilinear') {
    x = await decodeRandomCrop(file, steps[0], rng, maxPixels, syncRead);
    x = new Compose(steps.slice(1)).apply(x, rng, out);
  } else {
    const image = await decodeImage(file, { maxPixels, syncRead });
    x = transform instanceof Compose ? transform.apply(image, rng, out) : transform ? transform.apply(image, rng) : toTensor(image, out?.length === image.width * image.height * 3 ? out : undefined);
  }
  if (x.kind !== 'tensor') throw invalidType('the output of the loader transform', 'an ImageTensor (end the pipeline with ToTensor)', 'an RgbImage');
  if (out && x.data !== out && x.data.length === out.length) {
    out.set(x.data);
    return imageTensor(x.channels, x.height, x.width, out);
  }
  return x;
}

/**
 * RandomResizedCrop fused into decoding: its box is drawn from the header's size with the same
 * generator calls as RandomResizedCrop.apply, then libvips crops and resizes while decoding.
 */
async function decodeRandomCrop(file: string, rrc: RandomResizedCrop, rng: Rng, maxPixels: number | undefined, syncRead: boolean): Promise<Sample> {
  const cropResize = (width: number, height: number) => {
    const box = RandomResizedCrop.getParams(width, height, rrc.scale, rrc.ratio, rng);
    return { region: box, width: rrc.size[1], height: rrc.size[0] };
  };
  return decodeImage(file, { maxPixels, cropResize, syncRead });
}
