import { checkNumber, checkRange, invalidParameter } from '../../errors/index.ts';
import { expectImage, type RgbImage, type Sample } from '../image.ts';
import type { Rng } from '../rng.ts';
import { adjustBrightness, adjustContrast, adjustHue, adjustSaturation } from './color-ops.ts';
import { defaultRng, registerTransform, type Transform, type TransformSpec } from './transform.ts';

type Jitter = number | readonly [number, number];

export interface ColorJitterOptions {
  brightness?: Jitter;
  contrast?: Jitter;
  saturation?: Jitter;
  hue?: Jitter;
}

export interface ColorJitterParams {
  order: number[];
  brightness: number | null;
  contrast: number | null;
  saturation: number | null;
  hue: number | null;
}

/** torchvision's _check_input: v means [max(0, 1 - v), 1 + v]; a range that is only the centre disables it. */
function jitterRange(name: string, value: Jitter | undefined, center: number, bound: [number, number], clipAtZero: boolean): [number, number] | null {
  if (value === undefined) return null;
  let range: [number, number];
  if (typeof value === 'number') {
    checkNumber(name, value, { min: 0 });
    range = [center - value, center + value];
    if (clipAtZero) range[0] = Math.max(range[0], 0);
  } else {
    range = checkRange(name, value);
  }
  if (range[0] < bound[0] || range[1] > bound[1]) throw invalidParameter(name, `values between ${bound[0]} and ${bound[1]}`, range);
  return range[0] === center && range[1] === center ? null : range;
}

export class ColorJitter implements Transform {
  readonly name = 'ColorJitter';
  readonly brightness: [number, number] | null;
  readonly contrast: [number, number] | null;
  readonly saturation: [number, number] | null;
  readonly hue: [number, number] | null;

  constructor(options: ColorJitterOptions = {}) {
    this.brightness = jitterRange('brightness', options.brightness, 1, [0, Infinity], true);
    this.contrast = jitterRange('contrast', options.contrast, 1, [0, Infinity], true);
    this.saturation = jitterRange('saturation', options.saturation, 1, [0, Infinity], true);
    this.hue = jitterRange('hue', options.hue, 0, [-0.5, 0.5], false);
  }

  /** A random order of the four adjustments, then one factor per enabled adjustment, in torchvision's draw order. */
  static getParams(brightness: [number, number] | null, contrast: [number, number] | null, saturation: [number, number] | null, hue: [number, number] | null, rng: Rng): ColorJitterParams {
    const order = Array.from(rng.permutation(4));
    const draw = (r: [number, number] | null) => (r ? rng.uniform(r[0], r[1]) : null);
    return { order, brightness: draw(brightness), contrast: draw(contrast), saturation: draw(saturation), hue: draw(hue) };
  }

  apply(input: Sample, rng: Rng = defaultRng()): Sample {
    let image: RgbImage = expectImage(input, this.name);
    const p = ColorJitter.getParams(this.brightness, this.contrast, this.saturation, this.hue, rng);
    for (const fn of p.order) {
      if (fn === 0 && p.brightness !== null) image = adjustBrightness(image, p.brightness);
      else if (fn === 1 && p.contrast !== null) image = adjustContrast(image, p.contrast);
      else if (fn === 2 && p.saturation !== null) image = adjustSaturation(image, p.saturation);
      else if (fn === 3 && p.hue !== null) image = adjustHue(image, p.hue);
    }
    return image;
  }

  spec(): TransformSpec {
    const opt = (r: [number, number] | null) => r ?? undefined;
    return { name: this.name, options: { brightness: opt(this.brightness), contrast: opt(this.contrast), saturation: opt(this.saturation), hue: opt(this.hue) } };
  }
}

registerTransform('ColorJitter', (o) => new ColorJitter(o));
