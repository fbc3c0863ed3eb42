import { invalidParameter } from '../errors/index.ts';

/**
 * Position embeddings for another grid of patches, as timm's resample_abs_pos_embed makes them when
 * a checkpoint is used at another input size: the `prefix` leading tokens (class, registers) kept,
 * the grid's embeddings resized as an image with one channel per feature by PyTorch's bicubic
 * interpolation with antialiasing (F.interpolate(mode='bicubic', antialias=True)). That is PIL's
 * separable filter (a = -0.5), its support widened by the downscale factor, width then height.
 */
export function resamplePosEmbed(values: Float32Array, shape: readonly number[], prefix: number, newGrid: number): Float32Array {
  const [, tokens, dim] = shape;
  const oldGrid = Math.round(Math.sqrt(tokens - prefix));
  if (shape.length !== 3 || shape[0] !== 1 || oldGrid * oldGrid !== tokens - prefix) {
    throw invalidParameter('the position embedding', `[1, ${prefix} + a square number of tokens, features]`, `[${shape.join(', ')}]`);
  }
  const out = new Float32Array((prefix + newGrid * newGrid) * dim);
  out.set(values.subarray(0, prefix * dim));
  if (oldGrid === newGrid) {
    out.set(values.subarray(prefix * dim), prefix * dim);
    return out;
  }
  const taps = weights(oldGrid, newGrid);
  // Width first: rows [oldGrid][newGrid][dim], then height: [newGrid][newGrid][dim].
  const grid = values.subarray(prefix * dim);
  const wide = new Float64Array(oldGrid * newGrid * dim);
  for (let y = 0; y < oldGrid; y++) {
    for (let x = 0; x < newGrid; x++) {
      const { start, w } = taps[x];
      const to = (y * newGrid + x) * dim;
      for (let k = 0; k < w.length; k++) {
        const from = (y * oldGrid + start + k) * dim;
        for (let c = 0; c < dim; c++) wide[to + c] += w[k] * grid[from + c];
      }
    }
  }
  for (let y = 0; y < newGrid; y++) {
    const { start, w } = taps[y];
    for (let x = 0; x < newGrid; x++) {
      const to = (prefix + y * newGrid + x) * dim;
      for (let c = 0; c < dim; c++) {
        let s = 0;
        for (let k = 0; k < w.length; k++) s += w[k] * wide[((start + k) * newGrid + x) * dim + c];
        out[to + c] = s;
      }
    }
  }
  return out;
}

/** PyTorch's antialiased bicubic taps (_compute_indices_weights_aa): for each output index, the first input index and the normalized weights. */
function weights(inSize: number, outSize: number): { start: number; w: Float64Array }[] {
  const scale = inSize / outSize;
  const support = scale >= 1 ? 2 * scale : 2;
  const invscale = scale >= 1 ? 1 / scale : 1;
  return Array.from({ length: outSize }, (_, i) => {
    const center = scale * (i + 0.5);
    const start = Math.max(Math.trunc(center - support + 0.5), 0);
    const size = Math.min(Math.trunc(center + support + 0.5), inSize) - start;
    const w = Float64Array.from({ length: size }, (_, j) => cubic((j + start - center + 0.5) * invscale));
    const total = w.reduce((a, b) => a + b, 0);
    if (total !== 0) for (let j = 0; j < size; j++) w[j] /= total;
    return { start, w };
  });
}

/** The bicubic kernel with a = -0.5, as PIL and PyTorch's antialiased interpolation use it. */
function cubic(x: number): number {
  const a = -0.5;
  x = Math.abs(x);
  if (x < 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
  if (x < 2) return (((x - 5) * x + 8) * x - 4) * a;
  return 0;
}
