import { Optimizer, type ParamGroup, type Hyperparameters } from '../optimizer.ts';
import { checkInteger, invalidType } from '../../errors/index.ts';
import { captureState, restoreState } from './scheduler-state.ts';

export type AnyOptimizer = Optimizer<Hyperparameters, any>;

/**
 * The base of the epoch- or step-driven schedulers, as torch.optim.lr_scheduler._LRScheduler
 * (PyTorch 1.13). Each `step()` advances `lastEpoch` and sets every group's lr from `computeLr()`,
 * which uses PyTorch's recursive ("chainable") forms, so the sequence is PyTorch's to the last bit
 * and other changes to a group's lr compose with the schedule as they do in PyTorch.
 *
 * Subclasses set their own fields and then call `initialStep()` at the end of their constructor:
 * JavaScript cannot run the subclass's field setup before the base constructor, as Python can.
 */
export abstract class LRScheduler {
  readonly optimizer: AnyOptimizer;
  /** Each group's lr when the schedule started (`initial_lr`). */
  baseLrs: number[];
  /** Number of `step()` calls so far (0 after construction): the epoch or iteration index. */
  lastEpoch: number;
  protected stepCount = 0;
  protected lastLr: number[] = [];

  constructor(optimizer: AnyOptimizer, lastEpoch = -1) {
    if (!(optimizer instanceof Optimizer)) throw invalidType('optimizer', 'an Optimizer', optimizer);
    checkInteger('lastEpoch', lastEpoch, { min: -1 });
    const groups = optimizer.paramGroups;
    if (lastEpoch === -1) {
      for (const g of groups) g.initialLr ??= g.lr;
    } else {
      groups.forEach((g, i) => {
        if (g.initialLr === undefined) {
          throw new RangeError(`Parameter group ${i} has no initialLr, which resuming a schedule at lastEpoch ${lastEpoch} needs: load the optimizer's state dict first`);
        }
      });
    }
    this.optimizer = optimizer;
    this.baseLrs = groups.map((g) => g.initialLr as number);
    this.lastEpoch = lastEpoch;
  }

  protected get groups(): ParamGroup[] {
    return this.optimizer.paramGroups;
  }

  /** The lr of every group for the epoch `lastEpoch`, from the current lrs (PyTorch's `get_lr`). */
  protected abstract computeLr(): number[];

  /** Fields of the subclass to keep in the state dict: state-dict key -> property. */
  protected abstract stateFields(): Record<string, string>;

  protected initialStep(): void {
    this.stepCount = 0;
    this.step();
  }

  /** Advances the schedule by one epoch (or one iteration, for schedules counted in steps). Call it after `optimizer.step()`. */
  step(): void {
    this.stepCount++;
    this.lastEpoch++;
    const lrs = this.computeLr();
    this.groups.forEach((g, i) => { g.lr = lrs[i]; });
    this.lastLr = this.groups.map((g) => g.lr);
  }

  /** The lr of every group as last set by this scheduler. */
  getLastLr(): number[] {
    return [...this.lastLr];
  }

  private allFields(): Record<string, string> {
    return { ...this.stateFields(), base_lrs: 'baseLrs', last_epoch: 'lastEpoch', _step_count: 'stepCount', _last_lr: 'lastLr' };
  }

  /** The scheduler's state under PyTorch's names (the optimizer is saved separately). */
  stateDict(): Record<string, unknown> {
    return captureState(this, this.allFields());
  }

  loadStateDict(sd: Record<string, unknown>): void {
    restoreState(this, this.allFields(), sd, this.constructor.name);
  }
}
