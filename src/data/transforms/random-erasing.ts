import { checkNumber, checkRange, invalidParameter } from '../../errors/index.ts';
import { expectTensor, imageTensor, type ImageTensor, type Sample } from '../image.ts';
import { normal, type Rng } from '../rng.ts';
import { defaultRng, registerTransform, roundHalfEven, type Transform, type TransformSpec } from './transform.ts';

export type EraseValue = number | readonly number[] | 'random';

export interface RandomErasingOptions {
  p?: number;
  scale?: readonly [number, number];
  ratio?: readonly [number, number];
  value?: EraseValue;
}

export interface EraseParams {
  top: number;
  left: number;
  height: number;
  width: number;
  /** Per channel constant, or channels * height * width noise for 'random'. */
  values: Float32Array;
}

/** Random Erasing (Zhong et al.) on a tensor, after ToTensor/Normalize as in torchvision. */
export class RandomErasing implements Transform {
  readonly name = 'RandomErasing';
  readonly p: number;
  readonly scale: [number, number];
  readonly ratio: [number, number];
  readonly value: EraseValue;

  constructor(options: RandomErasingOptions = {}) {
    this.p = checkNumber('p', options.p ?? 0.5, { min: 0, max: 1 });
    this.scale = checkRange('scale', options.scale ?? [0.02, 0.33], { min: 0, max: 1 });
    this.ratio = checkRange('ratio', options.ratio ?? [0.3, 3.3], { minExclusive: 0 });
    const value = options.value ?? 0;
    if (value !== 'random' && typeof value !== 'number' && !(Array.isArray(value) && (value.length === 1 || value.length === 3))) {
      throw invalidParameter('value', "a number, an array of 1 or 3 numbers, or 'random'", value);
    }
    this.value = value;
  }

  /** torchvision's get_params: ten tries at a box strictly inside the image, else null (no erasing). */
  static getParams(channels: number, height: number, width: number, scale: readonly [number, number], ratio: readonly [number, number], value: EraseValue, rng: Rng): EraseParams | null {
    const area = height * width;
    const logRatio = [Math.log(ratio[0]), Math.log(ratio[1])];
    for (let attempt = 0; attempt < 10; attempt++) {
      const eraseArea = area * rng.uniform(scale[0], scale[1]);
      const aspect = Math.exp(rng.uniform(logRatio[0], logRatio[1]));
      const h = roundHalfEven(Math.sqrt(eraseArea * aspect));
      const w = roundHalfEven(Math.sqrt(eraseArea / aspect));
      if (!(h < height && w < width)) continue;
      let values: Float32Array;
      if (value === 'random') {
        values = new Float32Array(channels * h * w);
        for (let i = 0; i < values.length; i++) values[i] = normal(rng);
      } else {
        const v = typeof value === 'number' ? [value] : value;
        values = Float32Array.from({ length: channels }, (_, c) => v[c % v.length]);
      }
      const top = rng.int(0, height - h + 1);
      const left = rng.int(0, width - w + 1);
      return { top, left, height: h, width: w, values };
    }
    return null;
  }

  apply(input: Sample, rng: Rng = defaultRng()): Sample {
    const t = expectTensor(input, this.name);
    if (!(rng.random() < this.p)) return t;
    const params = RandomErasing.getParams(t.channels, t.height, t.width, this.scale, this.ratio, this.value, rng);
    return params ? erase(t, params) : t;
  }

  spec(): TransformSpec {
    return { name: this.name, options: { p: this.p, scale: this.scale, ratio: this.ratio, value: this.value } };
  }
}

export function erase(t: ImageTensor, e: EraseParams): ImageTensor {
  const out = imageTensor(t.channels, t.height, t.width, t.data.slice());
  const perPixel = e.values.length !== t.channels;
  for (let c = 0; c < t.channels; c++) {
    for (let y = 0; y < e.height; y++) {
      for (let x = 0; x < e.width; x++) {
        const v = perPixel ? e.values[(c * e.height + y) * e.width + x] : e.values[c];
        out.data[(c * t.height + e.top + y) * t.width + e.left + x] = v;
      }
    }
  }
  return out;
}

registerTransform('RandomErasing', (o) => new RandomErasing(o));
