import { manualSeed as seedInitialization } from './nn/init.ts';
import { manualSeed as seedTransforms } from './data/transforms/transform.ts';

/**
 * Seeds every generator graft draws from when no seed is passed (weight initialization, dropout
 * masks, random transforms), as torch.manual_seed does.
 */
export function manualSeed(seed: number): void {
  seedInitialization(seed);
  seedTransforms(seed);
}
