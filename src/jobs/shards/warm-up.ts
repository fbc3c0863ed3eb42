import { resolveConfig } from '../../train/config.ts';
import { EMBED_BATCH_SIZE } from './run-shard.ts';
import type { ShardModels } from './shard-models.ts';

/**
 * Gets a worker ready for feature shards of `model` before it takes any: loads the backbone,
 * compiles its session for the batches shards run (a run on a zero batch, which also starts the
 * runtime's session thread, probes the blocked layout and gives the feature width, so shards skip
 * their probe) and starts the decoding threads of
 * the eval transform. A worker does this before it asks the queue for a job, so no lock waits on
 * it; a first shard then costs what any other does. Shards with an augmented training transform
 * start its decoding threads on their first shard.
 */
export async function warmForFeatures(models: ShardModels, model: string, weights?: string | null): Promise<void> {
  const cfg = resolveConfig({ model, weights });
  const backbone = await models.backbone(cfg.model, cfg.weights, cfg.seed, 'none');
  models.decoders(backbone.val);
  const { cropSize } = backbone.preprocessing;
  const rt = models.runtime;
  const dim = await rt.run(() => rt.withFeed([EMBED_BATCH_SIZE, 3, cropSize, cropSize], (x) => x.fill(0), async (x) => {
    const y = backbone.forward(x);
    if (y.ndim !== 2) throw new RangeError(`The backbone of ${model} should output [N, features] but gives [${y.shape}]`);
    await y.floats();
    return y.shape[1];
  }));
  models.featureWidths.set(backbone.digest, dim);
}
