import { checkChoice, checkInteger } from '../../errors/index.ts';
import { expectImage, type RgbImage, type Sample } from '../image.ts';
import type { Rng } from '../rng.ts';
import { affine, rotate, type AffineInterpolation } from './affine.ts';
import { adjustBrightness, adjustContrast, adjustSaturation, adjustSharpness, autocontrast, equalize, posterize, solarize } from './color-ops.ts';
import { checkFill } from './random-rotation.ts';
import { defaultRng, registerTransform, roundHalfEven, type Transform, type TransformSpec } from './transform.ts';

export const TRIVIAL_AUGMENT_OPS = [
  'Identity', 'ShearX', 'ShearY', 'TranslateX', 'TranslateY', 'Rotate', 'Brightness',
  'Color', 'Contrast', 'Sharpness', 'Posterize', 'Solarize', 'AutoContrast', 'Equalize',
] as const;
export type TrivialAugmentOp = (typeof TRIVIAL_AUGMENT_OPS)[number];

const linspace = (lo: number, hi: number, n: number) => Array.from({ length: n }, (_, i) => (n === 1 ? lo : lo + ((hi - lo) * i) / (n - 1)));

/** TrivialAugmentWide's augmentation space: magnitude bins per op and whether the sign is random. */
export function augmentationSpace(numBins: number): Record<TrivialAugmentOp, { magnitudes: number[] | null; signed: boolean }> {
  return {
    Identity: { magnitudes: null, signed: false },
    ShearX: { magnitudes: linspace(0, 0.99, numBins), signed: true },
    ShearY: { magnitudes: linspace(0, 0.99, numBins), signed: true },
    TranslateX: { magnitudes: linspace(0, 32, numBins), signed: true },
    TranslateY: { magnitudes: linspace(0, 32, numBins), signed: true },
    Rotate: { magnitudes: linspace(0, 135, numBins), signed: true },
    Brightness: { magnitudes: linspace(0, 0.99, numBins), signed: true },
    Color: { magnitudes: linspace(0, 0.99, numBins), signed: true },
    Contrast: { magnitudes: linspace(0, 0.99, numBins), signed: true },
    Sharpness: { magnitudes: linspace(0, 0.99, numBins), signed: true },
    Posterize: { magnitudes: Array.from({ length: numBins }, (_, i) => 8 - roundHalfEven(i / ((numBins - 1) / 6))), signed: false },
    Solarize: { magnitudes: linspace(255, 0, numBins), signed: false },
    AutoContrast: { magnitudes: null, signed: false },
    Equalize: { magnitudes: null, signed: false },
  };
}

export interface TrivialAugmentOptions {
  numMagnitudeBins?: number;
  interpolation?: AffineInterpolation;
  fill?: number | readonly [number, number, number];
}

/** TrivialAugment (Müller & Hutter): one op, one uniformly drawn magnitude, per image. */
export class TrivialAugmentWide implements Transform {
  readonly name = 'TrivialAugmentWide';
  readonly numMagnitudeBins: number;
  readonly interpolation: AffineInterpolation;
  readonly fill: [number, number, number];

  constructor(options: TrivialAugmentOptions = {}) {
    this.numMagnitudeBins = checkInteger('numMagnitudeBins', options.numMagnitudeBins ?? 31, { min: 2 });
    this.interpolation = checkChoice('interpolation', options.interpolation ?? 'nearest', ['nearest', 'bilinear'] as const);
    this.fill = checkFill(options.fill ?? 0);
  }

  /** Draws op, then bin, then sign, in torchvision's order. */
  static getParams(numBins: number, rng: Rng): { op: TrivialAugmentOp; magnitude: number } {
    const space = augmentationSpace(numBins);
    const op = TRIVIAL_AUGMENT_OPS[rng.int(0, TRIVIAL_AUGMENT_OPS.length)];
    const { magnitudes, signed } = space[op];
    let magnitude = magnitudes ? magnitudes[rng.int(0, magnitudes.length)] : 0;
    if (signed && rng.int(0, 2) === 1) magnitude = -magnitude;
    return { op, magnitude };
  }

  apply(input: Sample, rng: Rng = defaultRng()): Sample {
    const { op, magnitude } = TrivialAugmentWide.getParams(this.numMagnitudeBins, rng);
    return applyOp(expectImage(input, this.name), op, magnitude, this.interpolation, this.fill);
  }

  spec(): TransformSpec {
    return { name: this.name, options: { numMagnitudeBins: this.numMagnitudeBins, interpolation: this.interpolation, fill: this.fill } };
  }
}

const degrees = (rad: number) => (rad * 180) / Math.PI;

/** torchvision's _apply_op: shears about the top-left corner, translations truncated to whole pixels. */
export function applyOp(img: RgbImage, op: TrivialAugmentOp, magnitude: number, interpolation: AffineInterpolation = 'nearest', fill?: readonly number[]): RgbImage {
  switch (op) {
    case 'Identity': return img;
    case 'ShearX': return affine(img, { shear: [degrees(Math.atan(magnitude)), 0], center: [0, 0] }, interpolation, fill);
    case 'ShearY': return affine(img, { shear: [0, degrees(Math.atan(magnitude))], center: [0, 0] }, interpolation, fill);
    case 'TranslateX': return affine(img, { translate: [Math.trunc(magnitude), 0] }, interpolation, fill);
    case 'TranslateY': return affine(img, { translate: [0, Math.trunc(magnitude)] }, interpolation, fill);
    case 'Rotate': return rotate(img, magnitude, interpolation, undefined, fill);
    case 'Brightness': return adjustBrightness(img, 1 + magnitude);
    case 'Color': return adjustSaturation(img, 1 + magnitude);
    case 'Contrast': return adjustContrast(img, 1 + magnitude);
    case 'Sharpness': return adjustSharpness(img, 1 + magnitude);
    case 'Posterize': return posterize(img, Math.trunc(magnitude));
    case 'Solarize': return solarize(img, magnitude);
    case 'AutoContrast': return autocontrast(img);
    case 'Equalize': return equalize(img);
  }
}

registerTransform('TrivialAugmentWide', (o) => new TrivialAugmentWide(o));
