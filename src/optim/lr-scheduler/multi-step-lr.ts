import { LRScheduler, type AnyOptimizer } from './lr-scheduler.ts';
import { checkInteger, checkNumber, invalidType } from '../../errors/index.ts';
import { snakeFields } from './scheduler-state.ts';

export interface MultiStepLROptions {
  /** Epochs at which the lr is multiplied by gamma (a repeated epoch multiplies by gamma once per repeat). */
  milestones: number[];
  gamma?: number;
  lastEpoch?: number;
}

/** Multiplies every group's lr by gamma at each milestone epoch, as torch.optim.lr_scheduler.MultiStepLR. */
export class MultiStepLR extends LRScheduler {
  /** Epoch -> how many times it was listed (PyTorch keeps a Counter). */
  readonly milestones: Record<string, number>;
  readonly gamma: number;

  constructor(optimizer: AnyOptimizer, options: MultiStepLROptions) {
    super(optimizer, options?.lastEpoch ?? -1);
    if (!Array.isArray(options.milestones)) throw invalidType('milestones', 'an array of epoch indices', options.milestones);
    const counts: Record<string, number> = {};
    options.milestones.forEach((m, i) => {
      checkInteger(`milestones[${i}]`, m, { min: 0 });
      counts[m] = (counts[m] ?? 0) + 1;
    });
    this.milestones = counts;
    this.gamma = checkNumber('gamma', options.gamma ?? 0.1);
    this.initialStep();
  }

  protected override computeLr(): number[] {
    const times = this.milestones[this.lastEpoch];
    if (!times) return this.groups.map((g) => g.lr);
    return this.groups.map((g) => g.lr * this.gamma ** times);
  }

  protected override stateFields() {
    return snakeFields('milestones', 'gamma');
  }
}
