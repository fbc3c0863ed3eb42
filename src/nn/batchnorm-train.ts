import type { Tensor, TensorData } from '../graph/tensor.ts';
import { apply } from '../graph/op.ts';
import { batchNormTrain as batchNormTrainOp, batchStats } from '../graph/ops/index.ts';
import type { Buffer, Parameter } from './parameter.ts';

/** What train-mode batch norm reads and updates of a BatchNorm2d (layers/batchnorm.ts). */
export interface BatchNormState {
  readonly weight: Parameter; readonly bias: Parameter; readonly eps: number; readonly momentum: number;
  readonly running_mean: Buffer; readonly running_var: Buffer; readonly num_batches_tracked: Buffer;
}

/**
 * Training-mode batch norm: normalizes with the batch's mean and biased variance over (N, H, W),
 * one op whose gradient is PyTorch's closed form (see ops/batchnorm.ts). The batch statistics are side
 * outputs of whatever run computes this forward; when they arrive, the running statistics are
 * updated as PyTorch does (momentum average, unbiased variance, num_batches_tracked + 1).
 */
export function batchNormTrain(bn: BatchNormState, x: Tensor): Tensor {
  if (x.ndim !== 4) throw new RangeError(`BatchNorm2d expects a 4-D input (N, C, H, W) but received shape [${x.shape}]`);
  const [n, , h, w] = x.shape;
  const count = n * h * w;
  if (count < 2) throw new RangeError(`BatchNorm2d in train mode needs more than one value per channel, got input shape [${x.shape}]`);
  const { y, mean, variance } = normalizeWithBatchStats(x, bn.weight, bn.bias, bn.eps);
  const stats = { tensors: [mean, variance], onValues: ([batchMean, batchVar]: TensorData[]) => updateRunningStats(bn, batchMean as Float32Array, batchVar as Float32Array, count) };
  y.sideOutputs = [...(y.sideOutputs ?? []), stats];
  return y;
}

/** Batch norm of x (N, C, H, W) with its own mean and biased variance over (N, H, W). */
export function normalizeWithBatchStats(x: Tensor, weight: Tensor, bias: Tensor, eps: number): { y: Tensor; mean: Tensor; variance: Tensor } {
  return { y: apply(batchNormTrainOp, [x, weight, bias], { eps }), ...batchStats(x, weight, bias, eps) };
}

function updateRunningStats(bn: BatchNormState, batchMean: Float32Array, batchVar: Float32Array, count: number): void {
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
