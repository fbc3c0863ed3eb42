import { invalidType } from '../errors.ts';
import type { Sample } from '../image.ts';
import type { Rng } from '../rng.ts';
import { Normalize, ToTensor, toNormalizedTensor } from './tensor.ts';
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

  apply(input: Sample, rng: Rng = defaultRng()): Sample {
    let x = input;
    const ts = this.transforms;
    for (let i = 0; i < ts.length; i++) {
      const t = ts[i];
      const next = ts[i + 1];
      // ToTensor + Normalize is the hot end of every pipeline: one pass instead of two.
      if (t instanceof ToTensor && next instanceof Normalize && x.kind === 'image' && next.mean.length === 3 && next.std.length === 3) {
        x = toNormalizedTensor(x, next.mean, next.std);
        i++;
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

registerTransform('Compose', (o: { transforms: TransformSpec[] }) => new Compose(o.transforms.map(transformFromSpec)));
