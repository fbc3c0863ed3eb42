import { findNonFinite } from '../nn/non-finite.ts';
import type { StateDict } from '../nn/state-dict.ts';

/**
 * The run diverged: a loss or a weight is no longer a finite number. Going on would only train
 * and save NaN, so the run stops here, as Keras' TerminateOnNaN does, and names where it happened.
 */
export class TrainingDivergedError extends Error {
  constructor(message: string, readonly epoch: number, readonly step: number | null) {
    super(message);
    this.name = 'TrainingDivergedError';
  }
}

const advice = (lr: number) => `the learning rate (${lr}) is likely too high; try a lower --lr`;

/** Throws when a training step's loss is NaN or infinite; `epoch` and `step` count from 1. */
export function checkStepLoss(loss: number, epoch: number, step: number, steps: number, lr: number): void {
  if (Number.isFinite(loss)) return;
  throw new TrainingDivergedError(`Training diverged: the loss became ${loss} at epoch ${epoch}, step ${step} of ${steps}; ${advice(lr)}`, epoch, step);
}

/** Throws when a weight became NaN or infinite during `epoch` (from 1), or the validation loss did. */
export function checkEpochFinite(weights: StateDict, valLoss: number, epoch: number, lr: number): void {
  const bad = findNonFinite(weights);
  if (bad) {
    throw new TrainingDivergedError(`Training diverged: weight ${bad.key} became ${bad.value} during epoch ${epoch}; ${advice(lr)}`, epoch, null);
  }
  if (!Number.isFinite(valLoss)) {
    throw new TrainingDivergedError(`Training diverged: the validation loss became ${valLoss} after epoch ${epoch}; ${advice(lr)}`, epoch, null);
  }
}
