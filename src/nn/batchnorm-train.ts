import type { Tensor } from '../graph/tensor.ts';
import * as T from '../graph/functional.ts';
import { registerSideOutput } from '../runtime/realize.ts';
import type { BatchNorm2d } from './layers/batchnorm.ts';

/**
 * Training-mode batch norm: normalizes with the batch's mean and biased variance over (N, H, W),
 * composed from primitive ops so its gradient comes from theirs. The batch statistics are side
 * outputs of whatever run computes this forward; when they arrive, the running statistics are
 * updated as PyTorch does (momentum average, unbiased variance, num_batches_tracked + 1).
 */
export function batchNormTrain(bn: BatchNorm2d, x: Tensor): Tensor {
  if (x.ndim !== 4) throw new RangeError(`BatchNorm2d expects a 4-D input (N, C, H, W) but received shape [${x.shape}]`);
  const [n, c, h, w] = x.shape;
  const count = n * h * w;
  if (count < 2) throw new RangeError(`BatchNorm2d in train mode needs more than one value per channel, got input shape [${x.shape}]`);
  const perChannel = (t: Tensor) => T.reshape(t, [1, c, 1, 1]);
  const mean = T.mean(x, [0, 2, 3], true);
  const centered = T.sub(x, mean);
  const variance = T.mean(T.mul(centered, centered), [0, 2, 3], true);
  const scale = T.mul(perChannel(bn.weight), T.div(1, T.sqrt(T.add(variance, bn.eps))));
  const y = T.add(T.mul(centered, scale), perChannel(bn.bias));
  registerSideOutput(bn, [mean, variance], ([batchMean, batchVar]) => updateRunningStats(bn, batchMean as Float32Array, batchVar as Float32Array, count));
  return y;
}

function updateRunningStats(bn: BatchNorm2d, batchMean: Float32Array, batchVar: Float32Array, count: number): void {
  const m = bn.momentum;
  const unbias = count / (count - 1);
  const runMean = bn.running_mean.value as Float32Array;
  const runVar = bn.running_var.value as Float32Array;
  const nextMean = new Float32Array(runMean.length);
  const nextVar = new Float32Array(runVar.length);
  for (let i = 0; i < nextMean.length; i++) {
    nextMean[i] = (1 - m) * runMean[i] + m * batchMean[i];
    nextVar[i] = (1 - m) * runVar[i] + m * batchVar[i] * unbias;
  }
  bn.running_mean.assign(nextMean);
  bn.running_var.assign(nextVar);
  const tracked = bn.num_batches_tracked.value as BigInt64Array;
  bn.num_batches_tracked.assign(BigInt64Array.of(tracked[0] + 1n));
}
