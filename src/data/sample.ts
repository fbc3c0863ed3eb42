import { decodeImage } from './decode.ts';
import { invalidType } from './errors.ts';
import { toTensor } from './transforms/tensor.ts';
import type { ImageTensor, Sample } from './image.ts';
import { Compose } from './transforms/compose.ts';
import { RandomResizedCrop } from './transforms/random-resized-crop.ts';
import { Rng } from './rng.ts';
import type { Transform } from './transforms/transform.ts';

/**
 * Decode one file and run the transform with a generator seeded from (seed, epoch, index): the
 * result is the same whichever thread computes it and in whatever order.
 */
export async function loadSample(file: string, transform: Transform | undefined, seeds: readonly number[], maxPixels?: number, nativeCrop = true, syncRead = false): Promise<ImageTensor> {
  const rng = new Rng(seeds);
  const steps = transform instanceof Compose ? transform.transforms : transform ? [transform] : [];
  let out: Sample;
  if (nativeCrop && steps[0] instanceof RandomResizedCrop && steps[0].interpolation === 'bilinear') {
    out = await decodeRandomCrop(file, steps[0], rng, maxPixels, syncRead);
    out = new Compose(steps.slice(1)).apply(out, rng);
  } else {
    const image = await decodeImage(file, { maxPixels, syncRead });
    out = transform ? transform.apply(image, rng) : toTensor(image);
  }
  if (out.kind !== 'tensor') throw invalidType('the output of the loader transform', 'an ImageTensor (end the pipeline with ToTensor)', 'an RgbImage');
  return out;
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
