import { LRScheduler, type AnyOptimizer } from './lr-scheduler.ts';
import { checkInteger, checkNumber } from '../../errors/index.ts';
import { snakeFields } from './scheduler-state.ts';

export interface LinearLROptions {
  /** Factor of the initial lr at epoch 0; default 1/3. */
  startFactor?: number;
  /** Factor reached after totalIters epochs and kept from then on; default 1. */
  endFactor?: number;
  /** Epochs of the ramp; default 5. */
  totalIters?: number;
  lastEpoch?: number;
}

/**
 * Ramps the lr linearly from startFactor to endFactor times its initial value over totalIters
 * epochs (a warm-up, typically), as torch.optim.lr_scheduler.LinearLR, in its recursive form.
 */
export class LinearLR extends LRScheduler {
  readonly startFactor: number;
  readonly endFactor: number;
  readonly totalIters: number;

  constructor(optimizer: AnyOptimizer, options: LinearLROptions = {}) {
    super(optimizer, options.lastEpoch ?? -1);
    this.startFactor = checkNumber('startFactor', options.startFactor ?? 1 / 3, { minExclusive: 0, max: 1 });
    this.endFactor = checkNumber('endFactor', options.endFactor ?? 1, { min: 0, max: 1 });
    this.totalIters = checkInteger('totalIters', options.totalIters ?? 5, { min: 1 });
    this.initialStep();
  }

  protected override computeLr(): number[] {
    const { lastEpoch: t, startFactor: s, endFactor: e, totalIters: n } = this;
    if (t === 0) return this.groups.map((g) => g.lr * s);
    if (t > n) return this.groups.map((g) => g.lr);
    return this.groups.map((g) => g.lr * (1 + (e - s) / (n * s + (t - 1) * (e - s))));
  }

  protected override stateFields() {
    return snakeFields('startFactor', 'endFactor', 'totalIters');
  }
}
