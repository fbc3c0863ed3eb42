import { checkBoolean, checkChoice, checkInteger, checkNumber, checkString, invalidParameter } from '../errors/index.ts';
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

/** Fills defaults and checks every value, naming the option and the valid range. */
export function resolveConfig(partial: Partial<TrainConfig>): TrainConfig {
  const c = { ...DEFAULTS, ...Object.fromEntries(Object.entries(partial).filter(([, v]) => v !== undefined)) } as TrainConfig;
  checkChoice('mode', c.mode, ['frozen', 'finetune', 'two-stage'] as const);
  checkChoice('optimizer', c.optimizer, ['sgd', 'adam', 'adamw'] as const);
  checkChoice('scheduler', c.scheduler, ['none', 'step', 'cosine', 'onecycle'] as const);
  checkChoice('augment', c.augment, ['none', 'light', 'standard'] as const);
  checkInteger('epochs', c.epochs, { min: 1 });
  checkInteger('batchSize', c.batchSize, { min: 1 });
  checkInteger('unfreeze', c.unfreeze, { min: 0 });
  checkInteger('frozenEpochs', c.frozenEpochs, { min: 0 });
  checkInteger('stepSize', c.stepSize, { min: 1 });
  checkInteger('views', c.views, { min: 1 });
  checkInteger('patience', c.patience, { min: 0 });
  checkInteger('seed', c.seed, { min: 0 });
  checkNumber('lr', c.lr, { min: 0 });
  checkNumber('momentum', c.momentum, { min: 0, max: 1 });
  checkNumber('weightDecay', c.weightDecay, { min: 0 });
  checkNumber('gamma', c.gamma, { min: 0, max: 1 });
  checkNumber('valSplit', c.valSplit, { min: 0, max: 0.9 });
  checkNumber('labelSmoothing', c.labelSmoothing, { min: 0, max: 1 });
  if (c.mode === 'two-stage' && c.frozenEpochs >= c.epochs) {
    throw invalidParameter('frozenEpochs', `integer below epochs (${c.epochs}) in mode "two-stage"`, c.frozenEpochs);
  }
  checkString('model', c.model, 'an architecture name or a model spec');
  if (c.weights !== null) checkString('weights', c.weights, 'a weight variant, a weights file or null');
  if (c.cacheDir !== null) checkString('cacheDir', c.cacheDir, 'a folder or null');
  checkBoolean('featureCache', c.featureCache);
  checkBoolean('strict', c.strict);
  return c;
}
