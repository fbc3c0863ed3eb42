import { defineOp } from '../op.ts';
import type { Tensor } from '../tensor.ts';
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
