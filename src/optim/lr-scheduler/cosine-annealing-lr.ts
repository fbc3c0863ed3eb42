import { LRScheduler, type AnyOptimizer } from './lr-scheduler.ts';
import { checkInteger, checkNumber } from '../../errors/index.ts';

export interface CosineAnnealingLROptions {
  /** Epochs of one half cosine period: the lr reaches etaMin after tMax epochs, then climbs back. */
  tMax: number;
  /** The lowest lr; default 0. */
  etaMin?: number;
  lastEpoch?: number;
}

/** Python's modulo: the result has the sign of the divisor. */
const pyMod = (a: number, b: number) => ((a % b) + b) % b;

/**
 * Cosine annealing from each group's initial lr down to etaMin over tMax epochs (SGDR without
 * restarts), as torch.optim.lr_scheduler.CosineAnnealingLR, in its recursive form:
 *
 *     lr_t = etaMin + (lr_{t-1} - etaMin) * (1 + cos(pi t / tMax)) / (1 + cos(pi (t-1) / tMax))
 */
export class CosineAnnealingLR extends LRScheduler {
  readonly tMax: number;
  readonly etaMin: number;

  constructor(optimizer: AnyOptimizer, options: CosineAnnealingLROptions) {
    super(optimizer, options?.lastEpoch ?? -1);
    this.tMax = checkInteger('tMax', options.tMax, { min: 1 });
    this.etaMin = checkNumber('etaMin', options.etaMin ?? 0, { min: 0 });
    this.initialStep();
  }

  protected override computeLr(): number[] {
    const { lastEpoch: t, tMax, etaMin } = this;
    if (t === 0) return this.groups.map((g) => g.lr);
    if (this.stepCount === 1 && t > 0) {
      // Resuming: nothing to recurse from, so the closed form.
      return this.baseLrs.map((base) => etaMin + (base - etaMin) * (1 + Math.cos((t * Math.PI) / tMax)) / 2);
    }
    if (pyMod(t - 1 - tMax, 2 * tMax) === 0) {
      // The recursion's denominator vanishes at the bottom of the cosine; PyTorch steps off it additively.
      return this.groups.map((g, i) => g.lr + (this.baseLrs[i] - etaMin) * (1 - Math.cos(Math.PI / tMax)) / 2);
    }
    return this.groups.map((g) => (1 + Math.cos((Math.PI * t) / tMax)) / (1 + Math.cos((Math.PI * (t - 1)) / tMax)) * (g.lr - etaMin) + etaMin);
  }

  protected override stateFields() {
    return { T_max: 'tMax', eta_min: 'etaMin' };
  }
}
