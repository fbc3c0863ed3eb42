import { invalidType } from '../../errors/index.ts';
import type { Sample } from '../image.ts';
import type { Rng } from '../rng.ts';
import { Normalize, ToTensor, toNormalizedTensor } from './tensor.ts';
import { RandomHorizontalFlip } from './flip.ts';
import { Resize, resizedSize } from './resize.ts';
import { CenterCrop, centerCropBox } from './crop.ts';
import { resample, type Region } from './resample.ts';
import type { RgbImage } from '../image.ts';
import { defaultRng, registerTransform, transformFromSpec, type Transform, type TransformSpec } from './transform.ts';

/** Applies transforms in order, threading one generator through all of them. */
export class Compose implements Transform {
  readonly name = 'Compose';
  readonly transforms: readonly Transform[];

  constructor(transforms: readonly Transform[]) {
    if (!Array.isArray(transforms)) throw invalidType('transforms', 'an array of transforms', transforms);
    transforms.forEach((t, i) => {
      if (!t || typeof t.apply !== 'function') throw invalidType(`transforms[${i}]`, 'a transform', t);
    });
    this.transforms = [...transforms];
  }

  /** `out`, when given and the right size, receives the final tensor (the loader's batch slot). */
  apply(input: Sample, rng: Rng = defaultRng(), out?: Float32Array): Sample {
    let x = input;
    const ts = this.transforms;
    for (let i = 0; i < ts.length; i++) {
      const t = ts[i];
      // [RandomHorizontalFlip,] ToTensor, Normalize is the hot end of every training pipeline:
      // one pass over the pixels instead of three, with the same generator draw as the flip.
      const fused = x.kind === 'image' ? fusedTail(ts, i) : 0;
      // Resize then CenterCrop, every eval pipeline's head: only the kept window is resampled.
      const window = x.kind === 'image' ? resizeCropWindow(ts, i, x) : null;
      if (window) {
        const resize = ts[i] as Resize;
        x = resample(x as RgbImage, window.width, window.height, resize.interpolation, undefined, window.box);
        i += 1;
      } else if (fused > 0) {
        const flip = ts[i] instanceof RandomHorizontalFlip ? rng.random() < (ts[i] as RandomHorizontalFlip).p : false;
        const norm = ts[i + fused - 1] as Normalize;
        x = toNormalizedTensor(x as RgbImage, norm.mean, norm.std, flip, i + fused === ts.length ? out : undefined);
        i += fused - 1;
      } else {
        x = t.apply(x, rng);
      }
    }
    return x;
  }

  spec(): TransformSpec {
    return { name: this.name, options: { transforms: this.transforms.map((t) => t.spec()) } };
  }
}

/**
 * For Resize at i followed by CenterCrop, the resized size and the crop's box in it, when the
 * crop lies inside the resized image (no padding) and the resize changes the size; else null.
 */
function resizeCropWindow(ts: readonly Transform[], i: number, image: Sample): { width: number; height: number; box: Region } | null {
  const resize = ts[i];
  const crop = ts[i + 1];
  if (!(resize instanceof Resize) || !(crop instanceof CenterCrop) || image.kind !== 'image') return null;
  const { width, height } = resizedSize(image.width, image.height, resize.size, resize.maxSize);
  if (width === image.width && height === image.height) return null;
  const b = centerCropBox(width, height, crop.size);
  if (b.top < 0 || b.left < 0 || b.top + b.height > height || b.left + b.width > width) return null;
  return { width, height, box: { left: b.left, top: b.top, width: b.width, height: b.height } };
}

/** How many transforms from i form a fusable [RandomHorizontalFlip,] ToTensor, Normalize tail (0 if none). */
function fusedTail(ts: readonly Transform[], i: number): number {
  const start = ts[i] instanceof RandomHorizontalFlip ? i + 1 : i;
  const norm = ts[start + 1];
  if (!(ts[start] instanceof ToTensor) || !(norm instanceof Normalize) || norm.inplace) return 0;
  return norm.mean.length === 3 && norm.std.length === 3 ? start + 2 - i : 0;
}

registerTransform('Compose', (o: { transforms: TransformSpec[] }) => new Compose(o.transforms.map(transformFromSpec)));
