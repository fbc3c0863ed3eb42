/**
 * Optimizers and learning-rate schedules, as torch.optim:
 *
 *     const optimizer = new optim.SGD(model.fc.parameters(), { lr: 1e-3, momentum: 0.9 });
 *     const scheduler = new optim.lr_scheduler.StepLR(optimizer, { stepSize: 7, gamma: 0.1 });
 */
export {
  Optimizer, type Hyperparameters, type ParamGroup, type ParamGroupSpec, type Params, type ParamState,
  type OptimizerStateDict, type SchedulerGroupFields,
} from './optimizer.ts';
export { SGD, type SGDOptions, type SGDState } from './sgd.ts';
export { Adam, type AdamOptions, type AdamState } from './adam.ts';
export { AdamW } from './adamw.ts';
export { clipGradNorm, clipGradValue } from './clip-grad.ts';
export * as lr_scheduler from './lr-scheduler/index.ts';
