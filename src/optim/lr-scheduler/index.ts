/** Learning-rate schedules, as torch.optim.lr_scheduler. */
export { LRScheduler } from './lr-scheduler.ts';
export { StepLR, type StepLROptions } from './step-lr.ts';
export { MultiStepLR, type MultiStepLROptions } from './multi-step-lr.ts';
export { CosineAnnealingLR, type CosineAnnealingLROptions } from './cosine-annealing-lr.ts';
export { LinearLR, type LinearLROptions } from './linear-lr.ts';
export { OneCycleLR, type OneCycleLROptions } from './one-cycle-lr.ts';
export { ReduceLROnPlateau, type ReduceLROnPlateauOptions } from './reduce-lr-on-plateau.ts';
