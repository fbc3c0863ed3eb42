import type { TrainConfig } from '../train/config.ts';
import { readFeaturesFolder } from './shards/features-manifest.ts';
import { train, type TrainJobResult, type TrainOptions } from './train.ts';

/**
 * `graft train --features <dir>`: trains the head on backbone features computed beforehand by
 * `graft embed` (on any number of machines), so the images need not be read again. The model,
 * weights, seed, augmentation and views are the features'; a config that names others is refused.
 */
export async function trainOnFeatures(dir: string, config: Partial<TrainConfig>, opts: TrainOptions): Promise<TrainJobResult> {
  const { manifest, splits, features } = await readFeaturesFolder(dir);
  const fromFeatures = { model: manifest.model, weights: manifest.weights, seed: manifest.seed, augment: manifest.augment, views: manifest.views };
  for (const [key, value] of Object.entries(fromFeatures)) {
    const given = (config as Record<string, unknown>)[key];
    if (given !== undefined && given !== value && !(key === 'views' && manifest.augment === 'none')) {
      throw new RangeError(`The features in ${dir} were computed with ${key} ${JSON.stringify(value)}, not ${JSON.stringify(given)}; leave ${key} out or compute the features again`);
    }
  }
  return train(splits, { ...config, ...fromFeatures }, { ...opts, features });
}
