import type { RgbImage } from '../../data/image.ts';
import { parseModelSpec } from '../../models/model-spec.ts';
import { resolveConfig } from '../../train/config.ts';
import { PREDICT_BATCH_SIZE, predict } from '../predict.ts';
import { EMBED_BATCH_SIZE } from './run-shard.ts';
import type { ShardModels } from './shard-models.ts';

/**
 * Gets a worker ready for the shards of `model` before it takes any (`graft worker --model`), so
 * that no lock waits on it and a first shard costs what any other does. A trained model folder is
 * made ready for prediction shards, anything else as a backbone for feature shards.
 */
export function warmUp(models: ShardModels, model: string, weights?: string | null): Promise<void> {
  return parseModelSpec(model).kind === 'folder' ? warmForPredictions(models, model, weights === undefined ? 'DEFAULT' : weights) : warmForFeatures(models, model, weights);
}

/**
 * Loads the backbone, compiles its session for the batches feature shards run (a run on a zero
 * batch, which also starts the runtime's session thread, probes the blocked layout and gives the
 * feature width, so shards skip their probe) and starts the decoding threads of the eval
 * transform. Shards with an augmented training transform start its decoding threads on their
 * first shard.
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

/** Loads the classifier and compiles its session for prediction batches of the default size, by predicting blank images. */
export async function warmForPredictions(models: ShardModels, model: string, weights: string | null): Promise<void> {
  const classifier = await models.classifier(model, weights);
  const blank: RgbImage = { kind: 'image', width: 8, height: 8, data: new Uint8Array(8 * 8 * 3) };
  await predict(classifier.loaded, Array.from({ length: PREDICT_BATCH_SIZE }, () => blank), { batchSize: PREDICT_BATCH_SIZE, runtime: models.runtime });
}
