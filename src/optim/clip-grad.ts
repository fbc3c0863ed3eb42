import type { Parameter } from '../nn/parameter.ts';
import { checkNumber, invalidType } from '../errors/index.ts';

function gradientsOf(params: Iterable<Parameter> | Parameter): Float32Array[] {
  const list = Symbol.iterator in Object(params) ? [...(params as Iterable<Parameter>)] : [params as Parameter];
  const grads: Float32Array[] = [];
  list.forEach((p, i) => {
    if (p.grad === null) return;
    const v = p.grad.value;
    if (!(v instanceof Float32Array)) {
      throw invalidType(`the gradient of parameter ${i}`, 'computed float32 values (await loss.backward() first)', v);
    }
    grads.push(v);
  });
  return grads;
}

/**
 * Scales the gradients in place so that their joint norm is at most maxNorm, as
 * torch.nn.utils.clip_grad_norm_: the norm of all gradients together, as if concatenated into one
 * vector. Returns that total norm (before clipping). normType may be Infinity (largest |g|).
 * Parameters without a gradient are skipped.
 */
export function clipGradNorm(params: Iterable<Parameter> | Parameter, maxNorm: number, normType = 2,
  { errorIfNonfinite = false }: { errorIfNonfinite?: boolean } = {}): number {
  checkNumber('maxNorm', maxNorm, { min: 0 });
  checkNumber('normType', normType, { minExclusive: 0, infinite: true });
  const grads = gradientsOf(params);
  if (grads.length === 0) return 0;
  let total: number;
  if (normType === Infinity) {
    total = 0;
    for (const g of grads) for (let i = 0; i < g.length; i++) total = Math.max(total, Math.abs(g[i]));
  } else {
    // Accumulated in float64: ||(||g_1||, ..., ||g_k||)|| = ||concat(g)|| for every p-norm.
    let acc = 0;
    for (const g of grads) {
      if (normType === 2) for (let i = 0; i < g.length; i++) acc += g[i] * g[i];
      else if (normType === 1) for (let i = 0; i < g.length; i++) acc += Math.abs(g[i]);
      else for (let i = 0; i < g.length; i++) acc += Math.abs(g[i]) ** normType;
    }
    total = normType === 2 ? Math.sqrt(acc) : normType === 1 ? acc : acc ** (1 / normType);
  }
  if (errorIfNonfinite && !Number.isFinite(total)) {
    throw new RangeError(`The total norm of order ${normType} of the gradients is ${total}, so they cannot be clipped; pass errorIfNonfinite: false to clip anyway`);
  }
  // The 1e-6 keeps the division finite for zero gradients, as PyTorch's.
  const coef = maxNorm / (total + 1e-6);
  if (coef < 1) for (const g of grads) for (let i = 0; i < g.length; i++) g[i] *= coef;
  return total;
}

/** Clamps every gradient value to [-clipValue, clipValue] in place, as torch.nn.utils.clip_grad_value_. */
export function clipGradValue(params: Iterable<Parameter> | Parameter, clipValue: number): void {
  checkNumber('clipValue', clipValue, { min: 0 });
  for (const g of gradientsOf(params)) {
    for (let i = 0; i < g.length; i++) g[i] = Math.min(clipValue, Math.max(-clipValue, g[i]));
  }
}
