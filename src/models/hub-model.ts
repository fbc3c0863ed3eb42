import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { findHubSnapshot } from '../formats/hf-hub.ts';
import { readSafetensors } from '../formats/safetensors.ts';
import { invalidType } from '../errors/index.ts';
import type { HubModelSpec } from './model-spec.ts';
import type { VisionTransformer } from './vit.ts';
import { buildTimmViT, fromTimmStateDict, parseTimmConfig, preprocessingAt } from './timm-vit.ts';

export interface HubModelOptions {
  /** Classes of the head: the checkpoint's own head when it has one and this is absent or the same, else a new one. */
  numClasses?: number;
  /** The square input to build for (default: the checkpoint's); position embeddings are resampled to it. */
  imageSize?: number;
  /** null: the architecture only, weights left at their initialization (a trained model folder loads its own next). */
  weights?: string | null;
}

/**
 * A timm checkpoint from the Hugging Face cache (`hf:<org>/<name>`, `timm:<name>`): config.json
 * says the architecture and preprocessing, model.safetensors holds timm's keys, mapped onto graft's
 * VisionTransformer. The model carries the checkpoint's preprocessing, at the size it is built for.
 */
export async function createHubModel(spec: HubModelSpec, opts: HubModelOptions = {}): Promise<VisionTransformer> {
  const snapshot = findHubSnapshot(spec.repo);
  const configFile = join(snapshot.dir, 'config.json');
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(configFile, 'utf8'));
  } catch (e) {
    throw invalidType(configFile, 'a readable JSON file', (e as Error).message);
  }
  const config = parseTimmConfig(json, configFile);
  const imageSize = opts.imageSize ?? config.imageSize;
  const model = buildTimmViT(config.architecture, imageSize, config.numClasses || (opts.numClasses ?? 1000));
  model.preprocessing = preprocessingAt(config.preprocessing, imageSize);
  if (opts.weights !== null) {
    const file = join(snapshot.dir, 'model.safetensors');
    const sd = fromTimmStateDict(await readSafetensors(file), model, file);
    // A checkpoint without a head (DINOv2's num_classes 0) keeps the model's new one.
    if (config.numClasses === 0) for (const [k, v] of model.stateDict()) if (k.startsWith('heads.')) sd.set(k, v);
    model.loadStateDict(sd, { source: file });
  }
  if (opts.numClasses !== undefined && opts.numClasses !== model.numClasses) model.resetClassifier(opts.numClasses);
  return model;
}
