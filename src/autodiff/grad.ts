import { Tensor } from '../graph/tensor.ts';
import { gradients, type GradientOptions } from './backward.ts';

/**
 * Gradients of `output` with respect to `inputs`, as lazy tensors (torch.autograd.grad): nothing
 * runs until they are realized, so they can be computed together with other results in one run.
 * `gradOutput` seeds the output (ones by default). An input the output does not depend on is an
 * error, or gets null with `allowUnused`. `rewrites` chooses the gradient graph's rewrites
 * (GradientOptions; all by default).
 */
export function grad(
  output: Tensor, inputs: readonly Tensor[], opts: { gradOutput?: Tensor; allowUnused?: boolean } & GradientOptions = {},
): (Tensor | null)[] {
  if (opts.gradOutput && !sameShape(opts.gradOutput.shape, output.shape)) {
    throw new RangeError(`gradOutput has shape [${opts.gradOutput.shape}] but the output has shape [${output.shape}]`);
  }
  const wanted = new Set(inputs);
  const grads = gradients(output, (t) => wanted.has(t), opts.gradOutput, { rewrites: opts.rewrites });
  return inputs.map((t, i) => {
    const g = grads.get(t) ?? null;
    if (g === null && !opts.allowUnused) {
      throw new Error(`Input ${i} (${t}) is not used to compute the output; pass allowUnused: true to get null for it`);
    }
    return g;
  });
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
