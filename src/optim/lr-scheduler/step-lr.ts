import { LRScheduler, type AnyOptimizer } from './lr-scheduler.ts';
import { checkInteger, checkNumber } from '../../errors/index.ts';
import { snakeFields } from './scheduler-state.ts';

export interface StepLROptions {
  /** Epochs between decays. */
  stepSize: number;
  /** Factor applied to the lr every stepSize epochs; default 0.1. */
  gamma?: number;
  lastEpoch?: number;
}

/**
 * Multiplies every group's lr by gamma every stepSize epochs, as torch.optim.lr_scheduler.StepLR.
 *
 * @example
 * const scheduler = new optim.lr_scheduler.StepLR(optimizer, { stepSize: 7, gamma: 0.1 });
 */
export class StepLR extends LRScheduler {
  readonly stepSize: number;
  readonly gamma: number;

  constructor(optimizer: AnyOptimizer, options: StepLROptions) {
    super(optimizer, options?.lastEpoch ?? -1);
    this.stepSize = checkInteger('stepSize', options.stepSize, { min: 1 });
    this.gamma = checkNumber('gamma', options.gamma ?? 0.1);
    this.initialStep();
  }

  protected override computeLr(): number[] {
    if (this.lastEpoch === 0 || this.lastEpoch % this.stepSize !== 0) return this.groups.map((g) => g.lr);
    return this.groups.map((g) => g.lr * this.gamma);
  }

  protected override stateFields() {
    return snakeFields('stepSize', 'gamma');
  }
}
