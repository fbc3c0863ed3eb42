import type { Parameter } from '../nn/parameter.ts';
import { SGD, Adam, AdamW, lr_scheduler, type Optimizer } from '../optim/index.ts';
import type { TrainConfig } from './config.ts';

export interface ParamGroupSpec { params: Parameter[]; lr: number }

/** The optimizer the config names, over groups that may each have their own learning rate. */
export function makeOptimizer(cfg: TrainConfig, groups: ParamGroupSpec[]): Optimizer {
  const specs = groups.filter((g) => g.params.length > 0);
  switch (cfg.optimizer) {
    case 'sgd': return new SGD(specs, { lr: cfg.lr, momentum: cfg.momentum, weightDecay: cfg.weightDecay });
    case 'adam': return new Adam(specs, { lr: cfg.lr, weightDecay: cfg.weightDecay });
    case 'adamw': return new AdamW(specs, { lr: cfg.lr, weightDecay: cfg.weightDecay });
  }
}

export interface Schedule {
  /** After each optimizer step (OneCycle) ... */
  afterBatch(): void;
  /** ... or after each epoch (the others), as in PyTorch's recipes. */
  afterEpoch(): void;
  stateDict(): Record<string, unknown> | null;
  loadStateDict(sd: Record<string, unknown>): void;
}

/** The learning-rate schedule over `epochs` epochs of `stepsPerEpoch` steps. */
export function makeSchedule(cfg: TrainConfig, optimizer: Optimizer, epochs: number, stepsPerEpoch: number): Schedule {
  const none: Schedule = { afterBatch() {}, afterEpoch() {}, stateDict: () => null, loadStateDict() {} };
  if (cfg.scheduler === 'none') return none;
  if (cfg.scheduler === 'onecycle') {
    const s = new lr_scheduler.OneCycleLR(optimizer, {
      maxLr: optimizer.paramGroups.map((g) => g.lr), epochs, stepsPerEpoch: Math.max(1, stepsPerEpoch),
      cycleMomentum: cfg.optimizer === 'sgd' ? cfg.momentum > 0 : true,
    });
    return { afterBatch: () => s.step(), afterEpoch() {}, stateDict: () => s.stateDict(), loadStateDict: (sd) => s.loadStateDict(sd) };
  }
  const s = cfg.scheduler === 'step'
    ? new lr_scheduler.StepLR(optimizer, { stepSize: cfg.stepSize, gamma: cfg.gamma })
    : new lr_scheduler.CosineAnnealingLR(optimizer, { tMax: epochs });
  return { afterBatch() {}, afterEpoch: () => s.step(), stateDict: () => s.stateDict(), loadStateDict: (sd) => s.loadStateDict(sd) };
}
