import type { Tensor } from '../../graph/tensor.ts';
import { Module } from '../module.ts';
import { Buffer, Parameter } from '../parameter.ts';
import * as F from '../functional.ts';
import { checkInteger, checkNumber } from '../../errors/index.ts';
import { batchNormTrain } from '../batchnorm-train.ts';

/**
 * BatchNorm2d with PyTorch's parameters and buffers. In eval mode it normalizes with the running
 * statistics. In train mode it uses batch statistics and updates the running ones, unless its
 * parameters are frozen: a frozen batch norm stays in inference mode (Keras' choice, and what
 * transfer learning wants), or follows PyTorch exactly with `trackFrozenStats = true`.
 */
export class BatchNorm2d extends Module {
  weight: Parameter;
  bias: Parameter;
  running_mean: Buffer;
  running_var: Buffer;
  num_batches_tracked: Buffer;
  readonly numFeatures: number;
  readonly eps: number;
  readonly momentum: number;
  /** Train a frozen batch norm's running statistics as PyTorch does (off by default). */
  trackFrozenStats = false;

  constructor(numFeatures: number, opts: { eps?: number; momentum?: number } = {}) {
    super();
    this.numFeatures = checkInteger('numFeatures', numFeatures, { min: 1 });
    this.eps = checkNumber('eps', opts.eps ?? 1e-5, { min: 0 });
    this.momentum = checkNumber('momentum', opts.momentum ?? 0.1, { min: 0, max: 1 });
    this.weight = new Parameter(new Float32Array(numFeatures).fill(1), [numFeatures]);
    this.bias = new Parameter(new Float32Array(numFeatures), [numFeatures]);
    this.running_mean = new Buffer(new Float32Array(numFeatures), [numFeatures]);
    this.running_var = new Buffer(new Float32Array(numFeatures).fill(1), [numFeatures]);
    this.num_batches_tracked = new Buffer(new BigInt64Array(1), []);
  }

  /** Whether this forward uses batch statistics. */
  get usesBatchStats(): boolean {
    if (!this.training) return false;
    const frozen = !this.weight.requiresGrad && !this.bias.requiresGrad;
    return !frozen || this.trackFrozenStats;
  }

  forward(x: Tensor): Tensor {
    if (this.usesBatchStats) return batchNormTrain(this, x);
    return F.batchNorm(x, this.running_mean, this.running_var, this.weight, this.bias, this.eps);
  }

  protected override extraRepr(): string {
    return `${this.numFeatures}, eps=${this.eps}, momentum=${this.momentum}`;
  }
}
