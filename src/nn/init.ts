import { generators } from '../data/generators.ts';

/**
 * Weight initialization with a seedable generator, so `manualSeed(0)` (or a job's `withSeed`) makes
 * a new head the same in every run. Formulas are PyTorch's (torch.nn.init).
 */
/** Uniform in [0, 1) from the calling code's initialization generator (data/generators.ts). */
export function random(): number {
  return generators().initRandom();
}

// The generator is looked up once per tensor, not per value: the lookup costs more than a draw,
// and a 100M-parameter network draws that many values when it is built.

/** Open `skipInit` calls: building is synchronous, so a counter is the whole state. */
let skipping = 0;

/**
 * Builds modules without drawing their initial values, as torch.nn.utils.skip_init: every
 * parameter is allocated at its shape and left at zero, for a state dict that replaces all of them
 * next. Drawing is most of the time it takes to build a large network (a convolution's weights
 * are drawn twice, by nn.Conv2d and by the network's own initialization), and zeros the process
 * has not written cost it no resident memory.
 */
export function skipInit<T>(build: () => T): T {
  skipping++;
  try {
    return build();
  } finally {
    skipping--;
  }
}

export function uniform(n: number, low: number, high: number): Float32Array {
  const g = generators();
  const out = new Float32Array(n);
  if (skipping) return out;
  for (let i = 0; i < n; i++) out[i] = low + (high - low) * g.initRandom();
  return out;
}

/** Box-Muller, one value per pair of draws. */
export function normals(n: number, mean: number, std: number): Float32Array {
  const g = generators();
  const out = new Float32Array(n);
  if (skipping) return out;
  for (let i = 0; i < n; i++) {
    const u = 1 - g.initRandom();
    out[i] = mean + std * (Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * g.initRandom()));
  }
  return out;
}

export function fanIn(shape: readonly number[]): number {
  return shape.slice(1).reduce((a, b) => a * b, 1);
}

export function fanOut(shape: readonly number[]): number {
  return shape[0] * shape.slice(2).reduce((a, b) => a * b, 1);
}

/** PyTorch's default for Linear and Conv weights: kaiming_uniform(a=sqrt(5)), i.e. U(-1/sqrt(fan_in), 1/sqrt(fan_in)). */
export function defaultWeight(shape: readonly number[]): Float32Array {
  const bound = 1 / Math.sqrt(fanIn(shape));
  return uniform(shape.reduce((a, b) => a * b, 1), -bound, bound);
}

/** kaiming_normal_(mode='fan_out', nonlinearity='relu'), as torchvision initializes convolutions. */
export function kaimingNormalFanOut(shape: readonly number[]): Float32Array {
  return normals(shape.reduce((a, b) => a * b, 1), 0, Math.sqrt(2 / fanOut(shape)));
}

/** trunc_normal_(mean, std, a, b): normal values redrawn until they fall in [a, b] (absolute bounds, as PyTorch's). */
export function truncatedNormals(n: number, mean: number, std: number, a: number, b: number): Float32Array {
  const g = generators();
  const out = new Float32Array(n);
  if (skipping) return out;
  const normal = () => Math.sqrt(-2 * Math.log(1 - g.initRandom())) * Math.cos(2 * Math.PI * g.initRandom());
  for (let i = 0; i < n; i++) {
    let v: number;
    do v = mean + std * normal(); while (v < a || v > b);
    out[i] = v;
  }
  return out;
}

/** kaiming_uniform_(mode='fan_in', nonlinearity='relu'): U(-b, b) with b = sqrt(6 / fan_in). */
export function kaimingUniform(shape: readonly number[]): Float32Array {
  const bound = Math.sqrt(6 / fanIn(shape));
  return uniform(shape.reduce((a, b) => a * b, 1), -bound, bound);
}

/** kaiming_normal_(mode='fan_in', nonlinearity='relu'). */
export function kaimingNormalFanIn(shape: readonly number[]): Float32Array {
  return normals(shape.reduce((a, b) => a * b, 1), 0, Math.sqrt(2 / fanIn(shape)));
}

/** xavier_uniform_ of a 2-D weight [fan_out, fan_in]: U(-b, b) with b = sqrt(6 / (fan_in + fan_out)). */
export function xavierUniform(shape: readonly number[]): Float32Array {
  const bound = Math.sqrt(6 / (fanIn(shape) + fanOut(shape)));
  return uniform(shape.reduce((a, b) => a * b, 1), -bound, bound);
}
