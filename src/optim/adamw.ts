import { Adam, type AdamOptions } from './adam.ts';
import type { Params } from './optimizer.ts';

/**
 * Adam with decoupled weight decay, as torch.optim.AdamW (PyTorch 1.13; Loshchilov & Hutter,
 * "Decoupled Weight Decay Regularization"). The weights shrink by lr * weightDecay before the
 * Adam update instead of the decay entering the moment estimates; weightDecay defaults to 1e-2.
 *
 *     p = p * (1 - lr * weightDecay)
 *     m, v and the update as in Adam, from the raw gradient
 */
export class AdamW extends Adam {
  protected override readonly decoupledWeightDecay: boolean = true;

  constructor(params: Params<AdamOptions>, options: Partial<AdamOptions> = {}) {
    super(params, { weightDecay: 1e-2, ...options });
  }
}
