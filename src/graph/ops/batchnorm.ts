import { apply, defineOp } from '../op.ts';
import { constant, type Tensor } from '../tensor.ts';
import { check } from '../errors.ts';
import { float } from '../emit.ts';
import * as T from '../functional.ts';

/**
 * Batch norm with given statistics: (x - mean) / sqrt(var + eps) * weight + bias per channel.
 * With frozen statistics ONNX Runtime folds it into the preceding convolution.
 */
export const batchNormInference = defineOp<{ eps: number }>({
  name: 'batch_norm_inference',
  shape: ([x, weight, bias, mean, variance]) => {
    check(x.ndim >= 2, `expected an input with a channel dimension but received ${x.ndim}-D`);
    const c = x.shape[1];
    for (const [name, t] of [['weight', weight], ['bias', bias], ['running_mean', mean], ['running_var', variance]] as const) {
      check(t.ndim === 1 && t.shape[0] === c, () => `${name} of shape [${t.shape}] does not match ${c} channels`);
    }
    return { shape: [...x.shape] };
  },
  emit: (ctx, inputs, { eps }) => ctx.node('BatchNormalization', inputs, { epsilon: float(eps) }),
  grad: (g, _out, [x, weight, , mean, variance], { eps }) => {
    const c = x.shape[1];
    const perChannel = (t: Tensor) => T.reshape(t, [1, c, ...x.shape.slice(2).map(() => 1)]);
    const others = x.shape.map((_, i) => i).filter((i) => i !== 1);
    const rstd = T.div(1, T.sqrt(T.add(variance, eps)));
    const centered = T.sub(x, perChannel(mean));
    const gSum = T.sum(g, others);
    const gCenteredSum = T.sum(T.mul(g, centered), others);
    const scale = T.mul(weight, rstd);
    return [
      T.mul(g, perChannel(scale)),
      T.mul(gCenteredSum, rstd),
      gSum,
      T.neg(T.mul(gSum, scale)),
      T.mul(gCenteredSum, T.mul(scale, T.mul(T.mul(rstd, rstd), -0.5))),
    ];
  },
});

/**
 * Batch norm in train mode, given the batch's own statistics: `centered` is x minus its mean over
 * (N, H, W) and `variance` its biased variance, computed by the caller so that one run computes
 * them once and can return them (running statistics). The output is one BatchNormalization node.
 * The gradient with respect to x is the total one, through the statistics too (PyTorch's closed
 * form), so the statistics' own ops need no gradient: about half the full-size passes of
 * differentiating the composition op by op.
 */
export const batchNormTrain = defineOp<{ eps: number }>({
  name: 'batch_norm_train',
  shape: ([x, centered, variance, weight, bias]) => {
    check(x.ndim === 4, `expected a 4-D input (N, C, H, W) but received ${x.ndim}-D`);
    const c = x.shape[1];
    check(centered.shape.every((d, i) => d === x.shape[i]) && centered.ndim === 4, () => `centered input [${centered.shape}] differs from the input [${x.shape}]`);
    for (const [name, t] of [['variance', variance], ['weight', weight], ['bias', bias]] as const) {
      check(t.ndim === 1 && t.shape[0] === c, () => `${name} of shape [${t.shape}] does not match ${c} channels`);
    }
    return { shape: [...x.shape] };
  },
  emit: (ctx, [, centered, variance, weight, bias], { eps }, out) => {
    const zeros = ctx.constant(new Float32Array(out.shape[1]), [out.shape[1]]);
    return ctx.node('BatchNormalization', [centered, weight, bias, zeros, variance], { epsilon: float(eps) });
  },
  grad: (g, _out, [x, centered, variance, weight], { eps }) => {
    const [n, c, h, w] = x.shape;
    const count = n * h * w;
    const rstd = T.div(1, T.sqrt(T.add(variance, eps)));
    const gSum = T.sum(g, [0, 2, 3]);
    const gCenteredSum = T.sum(T.mul(g, centered), [0, 2, 3]);
    // dx = scale * (g - mean(g) - centered * rstd^2 * mean(g * centered)), in PyTorch's order
    // (differences first, then the scale): the part after g is an affine map of centered per
    // channel, which one BatchNormalization node computes in one pass.
    const slope = T.neg(T.mul(T.mul(rstd, rstd), T.mul(gCenteredSum, 1 / count)));
    const offset = T.neg(T.mul(gSum, 1 / count));
    const affine = apply(batchNormInference, [centered, slope, offset, constant(new Float32Array(c), [c]), constant(new Float32Array(c).fill(1), [c])], { eps: 0 });
    const dx = T.mul(T.add(g, affine), T.reshape(T.mul(weight, rstd), [1, c, 1, 1]));
    return [dx, null, null, T.mul(gCenteredSum, rstd), gSum];
  },
});
