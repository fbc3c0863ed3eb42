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

export function uniform(n: number, low: number, high: number): Float32Array {
  const g = generators();
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = low + (high - low) * g.initRandom();
  return out;
}

/** Box-Muller, one value per pair of draws. */
export function normals(n: number, mean: number, std: number): Float32Array {
  const g = generators();
  const out = new Float32Array(n);
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
