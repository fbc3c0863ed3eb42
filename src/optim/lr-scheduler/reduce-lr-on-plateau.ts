import { Optimizer } from '../optimizer.ts';
import { checkChoice, checkInteger, checkNumber, invalidParameter, invalidType } from '../../errors/index.ts';
import type { AnyOptimizer } from './lr-scheduler.ts';
import { captureState, restoreState, snakeFields } from './scheduler-state.ts';

export interface ReduceLROnPlateauOptions {
  /** 'min': the metric should fall (a loss); 'max': it should rise (an accuracy). Default 'min'. */
  mode?: 'min' | 'max';
  /** new lr = lr * factor; default 0.1. */
  factor?: number;
  /** Epochs without improvement tolerated before reducing; default 10. */
  patience?: number;
  /** The least change that counts as an improvement; default 1e-4. */
  threshold?: number;
  /** 'rel': relative to the best value (best * (1 -/+ threshold)); 'abs': best -/+ threshold. Default 'rel'. */
  thresholdMode?: 'rel' | 'abs';
  /** Epochs to wait after a reduction before counting bad epochs again; default 0. */
  cooldown?: number;
  /** Lower bound on the lr, one for all groups or one per group; default 0. */
  minLr?: number | number[];
  /** Reductions smaller than this are skipped; default 1e-8. */
  eps?: number;
}

/**
 * Reduces the lr when a metric has stopped improving, as torch.optim.lr_scheduler.ReduceLROnPlateau
 * (PyTorch 1.13). Step it once per epoch with the validation metric.
 *
 * @example
 * const scheduler = new optim.lr_scheduler.ReduceLROnPlateau(optimizer, { mode: 'max', patience: 3 });
 * scheduler.step(valAccuracy);
 */
export class ReduceLROnPlateau {
  readonly optimizer: AnyOptimizer;
  mode: 'min' | 'max';
  factor: number;
  patience: number;
  threshold: number;
  thresholdMode: 'rel' | 'abs';
  cooldown: number;
  minLrs: number[];
  eps: number;
  /** The best metric so far (starts at the worst value for the mode). */
  best: number;
  numBadEpochs = 0;
  cooldownCounter = 0;
  lastEpoch = 0;
  private modeWorse: number;
  private lastLr: number[];

  constructor(optimizer: AnyOptimizer, options: ReduceLROnPlateauOptions = {}) {
    if (!(optimizer instanceof Optimizer)) throw invalidType('optimizer', 'an Optimizer', optimizer);
    this.optimizer = optimizer;
    this.mode = checkChoice('mode', options.mode ?? 'min', ['min', 'max'] as const);
    this.factor = checkNumber('factor', options.factor ?? 0.1, { min: 0, maxExclusive: 1 });
    this.patience = checkInteger('patience', options.patience ?? 10, { min: 0 });
    this.threshold = checkNumber('threshold', options.threshold ?? 1e-4, { min: 0 });
    this.thresholdMode = checkChoice('thresholdMode', options.thresholdMode ?? 'rel', ['rel', 'abs'] as const);
    this.cooldown = checkInteger('cooldown', options.cooldown ?? 0, { min: 0 });
    this.eps = checkNumber('eps', options.eps ?? 1e-8, { min: 0 });
    const n = optimizer.paramGroups.length;
    const minLr = options.minLr ?? 0;
    if (Array.isArray(minLr) && minLr.length !== n) {
      throw invalidParameter('minLr', `a number or an array of ${n} numbers (one per parameter group)`, minLr);
    }
    this.minLrs = (Array.isArray(minLr) ? minLr : Array.from({ length: n }, () => minLr))
      .map((v, i) => checkNumber(Array.isArray(minLr) ? `minLr[${i}]` : 'minLr', v, { min: 0 }));
    this.modeWorse = this.mode === 'min' ? Infinity : -Infinity;
    this.best = this.modeWorse;
    this.lastLr = optimizer.paramGroups.map((g) => g.lr);
  }

  /** Records one epoch's metric and reduces the lr after more than `patience` epochs without improvement. */
  step(metric: number): void {
    const current = checkNumber('metric', metric, { infinite: true });
    this.lastEpoch++;
    if (this.isBetter(current, this.best)) {
      this.best = current;
      this.numBadEpochs = 0;
    } else {
      this.numBadEpochs++;
    }
    if (this.cooldownCounter > 0) {
      this.cooldownCounter--;
      this.numBadEpochs = 0; // bad epochs during cooldown don't count
    }
    if (this.numBadEpochs > this.patience) {
      this.reduceLr();
      this.cooldownCounter = this.cooldown;
      this.numBadEpochs = 0;
    }
    this.lastLr = this.optimizer.paramGroups.map((g) => g.lr);
  }

  get inCooldown(): boolean {
    return this.cooldownCounter > 0;
  }

  getLastLr(): number[] {
    return [...this.lastLr];
  }

  private reduceLr(): void {
    this.optimizer.paramGroups.forEach((g, i) => {
      const newLr = Math.max(g.lr * this.factor, this.minLrs[i]);
      if (g.lr - newLr > this.eps) g.lr = newLr;
    });
  }

  private isBetter(a: number, best: number): boolean {
    if (this.mode === 'min') return this.thresholdMode === 'rel' ? a < best * (1 - this.threshold) : a < best - this.threshold;
    return this.thresholdMode === 'rel' ? a > best * (this.threshold + 1) : a > best + this.threshold;
  }

  private fields(): Record<string, string> {
    return {
      ...snakeFields('mode', 'factor', 'patience', 'threshold', 'thresholdMode', 'cooldown', 'minLrs', 'eps', 'best',
        'numBadEpochs', 'cooldownCounter', 'lastEpoch', 'modeWorse'),
      _last_lr: 'lastLr',
    };
  }

  /** The scheduler's state under PyTorch's names. `best` and `mode_worse` may be +-Infinity. */
  stateDict(): Record<string, unknown> {
    return captureState(this, this.fields());
  }

  loadStateDict(sd: Record<string, unknown>): void {
    restoreState(this, this.fields(), sd, 'ReduceLROnPlateau');
    checkChoice('mode', this.mode, ['min', 'max'] as const);
    checkChoice('thresholdMode', this.thresholdMode, ['rel', 'abs'] as const);
  }
}
