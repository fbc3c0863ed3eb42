import { checkChoice, checkNumber, checkRange, invalidParameter } from '../../errors/index.ts';
import { expectImage, type Sample } from '../image.ts';
import type { Rng } from '../rng.ts';
import { rotate, type AffineInterpolation } from './affine.ts';
import { defaultRng, registerTransform, type Transform, type TransformSpec } from './transform.ts';

export interface RandomRotationOptions {
  interpolation?: AffineInterpolation;
  center?: [number, number];
  fill?: number | readonly [number, number, number];
}

/** Rotates by an angle drawn uniformly from `degrees` (d means [-d, d]); corners fill with `fill`. */
export class RandomRotation implements Transform {
  readonly name = 'RandomRotation';
  readonly degrees: [number, number];
  readonly interpolation: AffineInterpolation;
  readonly center?: [number, number];
  readonly fill: [number, number, number];

  constructor(degrees: number | readonly [number, number], options: RandomRotationOptions = {}) {
    this.degrees = typeof degrees === 'number' ? [-checkNumber('degrees', degrees, { min: 0 }), degrees] : checkRange('degrees', degrees);
    this.interpolation = checkChoice('interpolation', options.interpolation ?? 'nearest', ['nearest', 'bilinear'] as const);
    if (options.center) this.center = [checkNumber('center[0]', options.center[0]), checkNumber('center[1]', options.center[1])];
    this.fill = checkFill(options.fill ?? 0);
  }

  static getParams(degrees: readonly [number, number], rng: Rng): number {
    return rng.uniform(degrees[0], degrees[1]);
  }

  apply(input: Sample, rng: Rng = defaultRng()): Sample {
    const angle = RandomRotation.getParams(this.degrees, rng);
    return rotate(expectImage(input, this.name), angle, this.interpolation, this.center, this.fill);
  }

  spec(): TransformSpec {
    return { name: this.name, options: { degrees: this.degrees, interpolation: this.interpolation, center: this.center, fill: this.fill } };
  }
}

export function checkFill(fill: unknown): [number, number, number] {
  if (typeof fill === 'number') {
    checkNumber('fill', fill, { min: 0, max: 255 });
    return [fill, fill, fill];
  }
  if (Array.isArray(fill) && fill.length === 3) return fill.map((v, i) => checkNumber(`fill[${i}]`, v, { min: 0, max: 255 })) as [number, number, number];
  throw invalidParameter('fill', 'a number or three numbers between 0 and 255', fill);
}

registerTransform('RandomRotation', (o) => new RandomRotation(o.degrees, o));
