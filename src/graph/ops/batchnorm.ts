import { apply, defineOp } from '../op.ts';
import { constant, scalar, type Tensor } from '../tensor.ts';
import { check } from '../errors.ts';
import { float, int, type EmitContext } from '../emit.ts';

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
    const perChannel = (t: Tensor) => t.reshape([1, c, ...x.shape.slice(2).map(() => 1)]);
    const others = x.shape.map((_, i) => i).filter((i) => i !== 1);
    const rstd = scalar(1).div(variance.add(eps).sqrt());
    const centered = x.sub(perChannel(mean));
    const gSum = g.sum(others);
    const gCenteredSum = g.mul(centered).sum(others);
    const scale = weight.mul(rstd);
    return [
      g.mul(perChannel(scale)),
      gCenteredSum.mul(rstd),
      gSum,
      gSum.mul(scale).neg(),
      gCenteredSum.mul(scale.mul(rstd.mul(rstd).mul(-0.5))),
    ];
  },
});

/**
 * Batch norm in train mode: x normalized with its own mean and biased variance over (N, H, W).
 * One BatchNormalization node in training mode (momentum 0, so its "running" outputs are the
 * batch's statistics) computes the output and both statistics, faster than the mean, centering,
 * variance and normalization as separate nodes, and as exact (see bench/NOTES.md, "Train-mode
 * batch norm as one node"). The statistics are `batchNormBatchStat`, read from the same node. The gradient with respect to x is the total
 * one, through the statistics too (PyTorch's closed form), so the statistics need no gradient.
 */
export const batchNormTrain = defineOp<{ eps: number }>({
  name: 'batch_norm_train',
  shape: ([x, weight, bias]) => {
    check(x.ndim === 4, `expected a 4-D input (N, C, H, W) but received ${x.ndim}-D`);
    const [n, c, h, w] = x.shape;
    check(n * h * w >= 2, () => `batch statistics need more than one value per channel, got input shape [${x.shape}]`);
    for (const [name, t] of [['weight', weight], ['bias', bias]] as const) {
      check(t.ndim === 1 && t.shape[0] === c, () => `${name} of shape [${t.shape}] does not match ${c} channels`);
    }
    return { shape: [...x.shape] };
  },
  emit: (ctx, inputs, { eps }, out) => emitTrainMode(ctx, inputs, eps, out.shape[1])[0],
  grad: (g, _out, [x, weight, bias], { eps }) => {
    const [n, c, h, w] = x.shape;
    const count = n * h * w;
    const { mean, variance } = batchStats(x, weight, bias, eps);
    const rstd = scalar(1).div(variance.add(eps).sqrt());
    const gSum = g.sum([0, 2, 3]);
    // sum(g * (x - mean)) without forming x - mean: the difference is taken per channel.
    const gCenteredSum = g.mul(x).sum([0, 2, 3]).sub(gSum.mul(mean));
    // dx = scale * (g - mean(g) - (x - mean) * rstd^2 * mean(g * (x - mean))), in PyTorch's order
    // (differences first, then the scale): the part after g is an affine map of x - mean per
    // channel, which one BatchNormalization node computes in one pass.
    const slope = (rstd.mul(rstd).mul(gCenteredSum.mul(1 / count))).neg();
    const offset = gSum.mul(1 / count).neg();
    const affine = apply(batchNormInference, [x, slope, offset, mean, constant(new Float32Array(c).fill(1), [c])], { eps: 0 });
    const dx = g.add(affine).mul(weight.mul(rstd).reshape([1, c, 1, 1]));
    return [dx, gCenteredSum.mul(rstd), gSum];
  },
});

/**
 * A train-mode batch norm's output computed again, by an inference-mode node, from the batch norm's
 * input and the batch statistics the backward keeps anyway; any other value as it is. An activation's
 * gradient that reads its input through this lets the batch norm's full-size output go after the
 * forward. The two nodes normalize alike up to rounding.
 */
export function recomputedBatchNorm(y: Tensor): Tensor {
  if (y.op !== batchNormTrain) return y;
  const [x, weight, bias] = y.inputs;
  const { eps } = y.attrs as { eps: number };
  const { mean, variance } = batchStats(x, weight, bias, eps);
  return apply(batchNormInference, [x, weight, bias, mean, variance], { eps });
}

/** The batch mean and biased variance per channel that `batchNormTrain` of the same inputs normalizes with. */
export function batchStats(x: Tensor, weight: Tensor, bias: Tensor, eps: number): { mean: Tensor; variance: Tensor } {
  return {
    mean: apply(batchNormBatchStat, [x, weight, bias], { eps, stat: 'mean' }),
    variance: apply(batchNormBatchStat, [x, weight, bias], { eps, stat: 'variance' }),
  };
}

/** One of `batchStats`: read from the training-mode node that also computes the output. */
export const batchNormBatchStat = defineOp<{ eps: number; stat: 'mean' | 'variance' }>({
  name: 'batch_norm_batch_stat',
  shape: ([x]) => ({ shape: [x.shape[1]] }),
  emit: (ctx, inputs, { eps, stat }, out) => emitTrainMode(ctx, inputs, eps, out.shape[0])[stat === 'mean' ? 1 : 2],
  grad: () => [null, null, null],
});

/**
 * The one training-mode node for these inputs: (y, batch mean, batch variance). ONNX Runtime
 * writes the statistics into the buffers of the running-statistics inputs, so those must be fresh
 * each run and read by nobody else: a constant would be shared with other nodes, and would carry
 * a NaN from one bad batch into every later run. They are two slices of x; momentum 0 ignores
 * their values.
 */
function emitTrainMode(ctx: EmitContext, [x, weight, bias]: readonly string[], eps: number, c: number): string[] {
  return ctx.once(`batch_norm_train(${x},${weight},${bias},${eps})`, () => {
    const flat = ctx.node('Reshape', [x, ctx.int64s([-1])]);
    const [scratchMean, scratchVar] = [0, c].map((start) => ctx.node('Slice', [flat, ctx.int64s([start]), ctx.int64s([start + c]), ctx.int64s([0])]));
    return ctx.nodeMulti('BatchNormalization', [x, weight, bias, scratchMean, scratchVar], 3, { epsilon: float(eps), momentum: float(0), training_mode: int(1) });
  });
}
