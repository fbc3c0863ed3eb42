import { Tensor } from '../graph/tensor.ts';
import * as T from '../graph/functional.ts';
import { gradients } from '../autodiff/backward.ts';
import { currentRuntime } from './runtime.ts';

declare module '../graph/tensor.ts' {
  interface Tensor {
    /**
     * Computes the gradients of this scalar (a loss) with respect to every parameter or input it
     * depends on that requires grad, in the same run as the loss itself, and adds them to their
     * `.grad`, as PyTorch's `loss.backward()`.
     */
    backward(gradient?: Tensor): Promise<void>;
  }
}

Object.assign(Tensor.prototype, {
  backward(this: Tensor, gradient?: Tensor): Promise<void> { return backward(this, gradient); },
});

/**
 * Leaves the loss depends on that require grad, in the order the forward pass first uses them
 * (the order of their first consumers in a topological order of the loss's graph).
 */
function trainableLeaves(loss: Tensor): Tensor[] {
  const found: Tensor[] = [];
  const done = new Set<Tensor>();
  // Iterative post-order: deep networks make recursion risky.
  const stack: [Tensor, boolean][] = [[loss, false]];
  while (stack.length) {
    const [t, expanded] = stack.pop()!;
    if (done.has(t)) continue;
    if (t.op === null) {
      done.add(t);
      if (t.requiresGrad) found.push(t);
    } else if (expanded) {
      done.add(t);
    } else {
      stack.push([t, true]);
      for (let i = t.inputs.length - 1; i >= 0; i--) if (!done.has(t.inputs[i])) stack.push([t.inputs[i], false]);
    }
  }
  return found;
}

/**
 * `await loss.backward()`: the gradients of a scalar loss with respect to every leaf it depends on
 * that requires grad, computed together with the loss in one run of one compiled graph (the
 * forward pass, the backward pass and any batch-norm statistics), then stored in each leaf's
 * `.grad`, added to what is there as PyTorch does.
 */
export async function backward(loss: Tensor, gradient?: Tensor, alsoRealize: readonly Tensor[] = []): Promise<void> {
  if (!gradient && loss.size !== 1) {
    throw new RangeError(`backward() without a gradient needs a scalar loss, but this one has shape [${loss.shape}]; reduce it (sum or mean) first`);
  }
  const leaves = trainableLeaves(loss);
  if (leaves.length === 0) {
    throw new Error('backward(): the loss does not depend on any tensor that requires grad (is every parameter frozen?)');
  }
  const wanted = new Set(leaves);
  const grads = gradients(loss, (t) => wanted.has(t), gradient);
  const computed = leaves.map((leaf) => grads.get(leaf)!);
  // Tensors the caller also wants (the logits, for accuracy) come out of the same run. The
  // gradients go first in forward order: ONNX Runtime schedules from the graph's last outputs
  // backwards, so the head's gradient is computed first and each layer's weight gradient as
  // soon as the gradient at its output exists, rather than every one waiting for the whole
  // backward pass while it holds its layer's activations (bench/memory-step.ts shows the peak).
  await currentRuntime().realize([...computed, loss, ...alsoRealize]);
  leaves.forEach((leaf, i) => {
    const value = computed[i].value as Float32Array;
    leaf.grad = accumulate(leaf.grad, value, leaf.shape);
  });
}

/** A new leaf holding the gradient (so the graph that produced it can be collected), summed onto an existing one. */
function accumulate(existing: Tensor | null, value: Float32Array, shape: readonly number[]): Tensor {
  if (existing && existing.value === null) return T.add(existing, new Tensor({ shape, dtype: 'float32', value }));
  if (existing?.value instanceof Float32Array) {
    const sum = new Float32Array(value.length);
    const prev = existing.value;
    for (let i = 0; i < sum.length; i++) sum[i] = prev[i] + value[i];
    return new Tensor({ shape, dtype: 'float32', value: sum });
  }
  return new Tensor({ shape, dtype: 'float32', value });
}

/** Clears the gradients of the given tensors (optimizer.zeroGrad() does this for its parameters). */
export function zeroGrad(params: Iterable<Tensor>): void {
  for (const p of params) p.grad = null;
}
