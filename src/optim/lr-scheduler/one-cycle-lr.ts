import { LRScheduler, type AnyOptimizer } from './lr-scheduler.ts';
import { checkBoolean, checkChoice, checkInteger, checkNumber, invalidParameter } from '../../errors/index.ts';
import type { ParamGroup, SchedulerGroupFields } from '../optimizer.ts';

export interface OneCycleLROptions {
  /** Peak lr, one for all groups or one per group. */
  maxLr: number | number[];
  /** Steps in the cycle; or give epochs and stepsPerEpoch. */
  totalSteps?: number;
  epochs?: number;
  stepsPerEpoch?: number;
  /** Share of the cycle spent raising the lr; default 0.3. */
  pctStart?: number;
  annealStrategy?: 'cos' | 'linear';
  /** Cycle SGD's momentum (or Adam's beta1) inversely to the lr; default true. */
  cycleMomentum?: boolean;
  baseMomentum?: number | number[];
  maxMomentum?: number | number[];
  /** initial lr = maxLr / divFactor; default 25. */
  divFactor?: number;
  /** min lr = initial lr / finalDivFactor; default 1e4. */
  finalDivFactor?: number;
  /** fast.ai's three phases: up, back down to the initial lr, then annihilate (default false: up, then down to min lr). */
  threePhase?: boolean;
  lastEpoch?: number;
}

type LrKey = 'initialLr' | 'maxLr' | 'minLr';
type MomentumKey = 'maxMomentum' | 'baseMomentum';
interface Phase { endStep: number; startLr: LrKey; endLr: LrKey; startMomentum: MomentumKey; endMomentum: MomentumKey }

type MomentumGroup = ParamGroup & { momentum?: number; betas?: [number, number] };

/**
 * The 1cycle policy (Smith & Topin, "Super-Convergence"), as torch.optim.lr_scheduler.OneCycleLR:
 * the lr climbs from maxLr/divFactor to maxLr over pctStart of the steps, then anneals to
 * initial/finalDivFactor, while momentum moves the opposite way. Step it after every batch.
 */
export class OneCycleLR extends LRScheduler {
  readonly totalSteps: number;
  readonly schedulePhases: Phase[];
  readonly annealStrategy: 'cos' | 'linear';
  readonly cycleMomentum: boolean;
  /** Adam-style optimizers cycle betas[0]; SGD cycles momentum. */
  readonly useBeta1: boolean;

  constructor(optimizer: AnyOptimizer, options: OneCycleLROptions) {
    // The groups must have their lr range before the base constructor records initial lrs.
    const o = OneCycleLR.validate(optimizer, options);
    const lastEpoch = options.lastEpoch ?? -1;
    const groups = optimizer.paramGroups as MomentumGroup[];
    if (lastEpoch === -1) {
      groups.forEach((g, i) => {
        g.initialLr = o.maxLrs[i] / o.divFactor;
        g.maxLr = o.maxLrs[i];
        g.minLr = g.initialLr / o.finalDivFactor;
      });
    }
    const useBeta1 = 'betas' in optimizer.defaults;
    if (o.cycleMomentum) {
      if (!('momentum' in optimizer.defaults) && !useBeta1) {
        throw new TypeError(`cycleMomentum needs an optimizer with momentum or betas, and ${optimizer.constructor.name} has neither: pass cycleMomentum: false`);
      }
      if (lastEpoch === -1) {
        groups.forEach((g, i) => {
          if (useBeta1) g.betas = [o.maxMomentums[i], (g.betas as [number, number])[1]];
          else g.momentum = o.maxMomentums[i];
          g.maxMomentum = o.maxMomentums[i];
          g.baseMomentum = o.baseMomentums[i];
        });
      }
    }
    super(optimizer, lastEpoch);
    this.totalSteps = o.totalSteps;
    this.annealStrategy = o.annealStrategy;
    this.cycleMomentum = o.cycleMomentum;
    this.useBeta1 = useBeta1;
    const up = o.pctStart * o.totalSteps - 1;
    this.schedulePhases = o.threePhase
      ? [
        { endStep: up, startLr: 'initialLr', endLr: 'maxLr', startMomentum: 'maxMomentum', endMomentum: 'baseMomentum' },
        { endStep: 2 * o.pctStart * o.totalSteps - 2, startLr: 'maxLr', endLr: 'initialLr', startMomentum: 'baseMomentum', endMomentum: 'maxMomentum' },
        { endStep: o.totalSteps - 1, startLr: 'initialLr', endLr: 'minLr', startMomentum: 'maxMomentum', endMomentum: 'maxMomentum' },
      ]
      : [
        { endStep: up, startLr: 'initialLr', endLr: 'maxLr', startMomentum: 'maxMomentum', endMomentum: 'baseMomentum' },
        { endStep: o.totalSteps - 1, startLr: 'maxLr', endLr: 'minLr', startMomentum: 'baseMomentum', endMomentum: 'maxMomentum' },
      ];
    this.initialStep();
  }

  private static validate(optimizer: AnyOptimizer, o: OneCycleLROptions) {
    const n = optimizer.paramGroups.length;
    const perGroup = (name: string, v: number | number[] | undefined, fallback: number): number[] => {
      const values = Array.isArray(v) ? v : Array.from({ length: n }, () => v ?? fallback);
      if (values.length !== n) throw invalidParameter(name, `a number or an array of ${n} numbers (one per parameter group)`, v);
      return values.map((x, i) => checkNumber(Array.isArray(v) ? `${name}[${i}]` : name, x, { min: 0 }));
    };
    let totalSteps: number;
    if (o.totalSteps !== undefined) totalSteps = checkInteger('totalSteps', o.totalSteps, { min: 1 });
    else if (o.epochs !== undefined || o.stepsPerEpoch !== undefined) {
      totalSteps = checkInteger('epochs', o.epochs, { min: 1 }) * checkInteger('stepsPerEpoch', o.stepsPerEpoch, { min: 1 });
    } else throw new TypeError('OneCycleLR needs totalSteps, or epochs and stepsPerEpoch');
    if (o.maxLr === undefined) throw invalidParameter('maxLr', 'a number or an array of numbers', o.maxLr);
    return {
      totalSteps,
      maxLrs: perGroup('maxLr', o.maxLr, 0),
      pctStart: checkNumber('pctStart', o.pctStart ?? 0.3, { min: 0, max: 1 }),
      annealStrategy: checkChoice('annealStrategy', o.annealStrategy ?? 'cos', ['cos', 'linear'] as const),
      cycleMomentum: checkBoolean('cycleMomentum', o.cycleMomentum ?? true),
      baseMomentums: perGroup('baseMomentum', o.baseMomentum, 0.85),
      maxMomentums: perGroup('maxMomentum', o.maxMomentum, 0.95),
      divFactor: checkNumber('divFactor', o.divFactor ?? 25, { minExclusive: 0 }),
      finalDivFactor: checkNumber('finalDivFactor', o.finalDivFactor ?? 1e4, { minExclusive: 0 }),
      threePhase: checkBoolean('threePhase', o.threePhase ?? false),
    };
  }

  private anneal(start: number, end: number, pct: number): number {
    if (this.annealStrategy === 'linear') return (end - start) * pct + start;
    return end + ((start - end) / 2) * (Math.cos(Math.PI * pct) + 1);
  }

  protected override computeLr(): number[] {
    const stepNum = this.lastEpoch;
    if (stepNum > this.totalSteps) {
      throw new RangeError(`OneCycleLR was stepped ${stepNum + 1} times but totalSteps is ${this.totalSteps}`);
    }
    return (this.groups as (MomentumGroup & Required<SchedulerGroupFields>)[]).map((g) => {
      let startStep = 0;
      const last = this.schedulePhases.length - 1;
      for (const [i, phase] of this.schedulePhases.entries()) {
        if (stepNum <= phase.endStep || i === last) {
          if (phase.endStep === startStep) {
            throw new RangeError(`OneCycleLR phase ${i} has no steps (totalSteps ${this.totalSteps} is too small for its phases): use more steps`);
          }
          const pct = (stepNum - startStep) / (phase.endStep - startStep);
          if (this.cycleMomentum) {
            const momentum = this.anneal(g[phase.startMomentum], g[phase.endMomentum], pct);
            if (this.useBeta1) g.betas = [momentum, (g.betas as [number, number])[1]];
            else g.momentum = momentum;
          }
          return this.anneal(g[phase.startLr], g[phase.endLr], pct);
        }
        startStep = phase.endStep;
      }
      throw new Error('unreachable: the last phase always matches');
    });
  }

  protected override stateFields() {
    return {
      total_steps: 'totalSteps', _schedule_phases: 'schedulePhases', anneal_strategy: 'annealStrategy',
      cycle_momentum: 'cycleMomentum', use_beta1: 'useBeta1',
    };
  }
}
