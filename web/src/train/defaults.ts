import type { TrainConfig } from '../../../src/train/config.ts';

/** The settings the train form offers: every one graft train takes but the model, its weights and the cache folder. */
export type FormSettings = Omit<TrainConfig, 'model' | 'weights' | 'cacheDir'>;

/** graft train's defaults (the bundle test checks they are), which the form starts from. */
export const FORM_DEFAULTS: FormSettings = {
  mode: 'frozen', unfreeze: 0, epochs: 15, frozenEpochs: 3, batchSize: 32, lr: 1e-3, optimizer: 'adamw', momentum: 0.9,
  weightDecay: 1e-4, scheduler: 'cosine', stepSize: 7, gamma: 0.1, augment: 'light', views: 5, featureCache: true,
  valSplit: 0.2, labelSmoothing: 0, patience: 0, seed: 0, strict: false,
};
