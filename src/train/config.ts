import type { AugmentLevel } from './augment.ts';

export type TrainMode = 'frozen' | 'finetune' | 'two-stage';
export type OptimizerName = 'sgd' | 'adam' | 'adamw';
export type SchedulerName = 'none' | 'step' | 'cosine' | 'onecycle';

/** Everything that decides a training run; stored in the model folder so a run can be repeated. */
export interface TrainConfig {
  model: string;
  /** A weight variant ('IMAGENET1K_V1', 'DEFAULT') or a .pth/.safetensors file; null trains from scratch. */
  weights: string | null;
  /**
   * frozen: the backbone is fixed and only a new head trains (the classic recipe), on cached
   * features; finetune: everything trains; two-stage: frozen epochs first, then everything with
   * lower learning rates for earlier blocks (fastai's fine_tune).
   */
  mode: TrainMode;
  /** With mode frozen: also train the last N backbone blocks (on images, not cached features). */
  unfreeze: number;
  epochs: number;
  /** two-stage: epochs of its frozen first stage. */
  frozenEpochs: number;
  batchSize: number;
  lr: number;
  optimizer: OptimizerName;
  momentum: number;
  weightDecay: number;
  scheduler: SchedulerName;
  /** step: decay every stepSize epochs by gamma. */
  stepSize: number;
  gamma: number;
  augment: AugmentLevel;
  /** Augmented views cached per training image when the backbone is frozen. */
  views: number;
  /** Cache backbone features on disk (frozen backbone only). */
  featureCache: boolean;
  /** Folder of the feature cache; null for graft's default. */
  cacheDir: string | null;
  /** Share of a single class-per-folder dataset held out for validation when it has no val/ folder. */
  valSplit: number;
  labelSmoothing: number;
  /** Stop after this many epochs without a better validation accuracy; 0 never stops early. */
  patience: number;
  seed: number;
  /** Skip unreadable images with a warning (default) or stop at the first one. */
  strict: boolean;
}

export const DEFAULTS: TrainConfig = {
  model: 'mobilenet_v2', weights: 'DEFAULT', mode: 'frozen', unfreeze: 0,
  epochs: 15, frozenEpochs: 3, batchSize: 32, lr: 1e-3, optimizer: 'adamw', momentum: 0.9, weightDecay: 1e-4,
  scheduler: 'cosine', stepSize: 7, gamma: 0.1, augment: 'light', views: 5, featureCache: true, cacheDir: null,
  valSplit: 0.2, labelSmoothing: 0, patience: 0, seed: 0, strict: false,
};

const oneOf = <T extends string>(name: string, v: string, options: readonly T[]): T => {
  if (!options.includes(v as T)) throw new RangeError(`Expected one of ${options.join(', ')} for ${name} but received ${JSON.stringify(v)}`);
  return v as T;
};
const int = (name: string, v: number, min: number) => {
  if (!Number.isInteger(v) || v < min) throw new RangeError(`Expected integer >= ${min} for ${name} but received ${v}`);
  return v;
};
const num = (name: string, v: number, min: number, max = Infinity) => {
  if (!(Number.isFinite(v) && v >= min && v <= max)) throw new RangeError(`Expected number between ${min} and ${max} for ${name} but received ${v}`);
  return v;
};

/** Fills defaults and checks every value, naming the option and the valid range. */
export function resolveConfig(partial: Partial<TrainConfig>): TrainConfig {
  const c = { ...DEFAULTS, ...Object.fromEntries(Object.entries(partial).filter(([, v]) => v !== undefined)) } as TrainConfig;
  oneOf('mode', c.mode, ['frozen', 'finetune', 'two-stage'] as const);
  oneOf('optimizer', c.optimizer, ['sgd', 'adam', 'adamw'] as const);
  oneOf('scheduler', c.scheduler, ['none', 'step', 'cosine', 'onecycle'] as const);
  oneOf('augment', c.augment, ['none', 'light', 'standard'] as const);
  int('epochs', c.epochs, 1);
  int('batchSize', c.batchSize, 1);
  int('unfreeze', c.unfreeze, 0);
  int('frozenEpochs', c.frozenEpochs, 0);
  int('stepSize', c.stepSize, 1);
  int('views', c.views, 1);
  int('patience', c.patience, 0);
  int('seed', c.seed, 0);
  num('lr', c.lr, 0);
  num('momentum', c.momentum, 0, 1);
  num('weightDecay', c.weightDecay, 0);
  num('gamma', c.gamma, 0, 1);
  num('valSplit', c.valSplit, 0, 0.9);
  num('labelSmoothing', c.labelSmoothing, 0, 1);
  if (c.mode === 'two-stage' && c.frozenEpochs >= c.epochs) {
    throw new RangeError(`two-stage needs frozenEpochs (${c.frozenEpochs}) below epochs (${c.epochs})`);
  }
  return c;
}
