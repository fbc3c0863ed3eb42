import { defineOp } from '../op.ts';
import { check } from '../errors.ts';
import { float } from '../emit.ts';

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
});
