import type { Tensor } from '../graph/tensor.ts';
import type { BatchNorm2d } from './layers/batchnorm.ts';

/** Training-mode batch norm (batch statistics, running-statistics update). */
export function batchNormTrain(bn: BatchNorm2d, x: Tensor): Tensor {
  void x;
  throw new Error(`BatchNorm2d in train mode needs batch statistics, which the training engine provides; call model.eval() for inference (${bn.numFeatures} features)`);
}
