import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { resolveHubSnapshot } from '../formats/hf-hub.ts';
import { readSafetensors } from '../formats/safetensors.ts';
import { invalidParameter, invalidType } from '../errors/index.ts';
import type { HubModelSpec } from './model-spec.ts';
import { parseTimmConfig, preprocessingAt, type HubModel, type TimmConfig, type TimmFamily } from './timm-config.ts';
import { TIMM_VIT } from './timm-vit.ts';
import { TIMM_CONVNEXT } from './timm-convnext.ts';
import { TIMM_EFFICIENTNET } from './timm-efficientnet.ts';

export type { HubModel } from './timm-config.ts';

export interface HubModelOptions {
  /** Classes of the head: the checkpoint's own head when it has one and this is absent or the same, else a new one. */
  numClasses?: number;
  /** The square input to build for (default: the checkpoint's); a ViT's position embeddings are resampled to it. */
  imageSize?: number;
  /** null: the architecture only, weights left at their initialization (a trained model folder loads its own next). */
  weights?: string | null;
}

/** The families graft maps timm checkpoints onto, ViT first. */
export const TIMM_FAMILIES: readonly TimmFamily[] = [TIMM_VIT, TIMM_CONVNEXT, TIMM_EFFICIENTNET];

/** timm architectures of families graft has, computed differently: why graft does not take them. */
const NOT_MAPPED: readonly [RegExp, string][] = [
  [/^tf_efficientnet/, "a TensorFlow port: 'same' padding and TensorFlow's batch norm epsilon, which graft's EfficientNet does not compute"],
  [/^efficientnet_b[5-8]$|^efficientnet_l2$/, "PyTorch's batch norm epsilon at a size graft builds only with TensorFlow's"],
  [/^convnext.*_ols$/, "an overlapping tiered stem, not graft's ConvNeXt's patchify stem"],
  [/^convnext.*_hnf$/, "its head's norm before the pooling, not after it as in graft's ConvNeXt"],
  [/^convnext.*_rms$/, "RMS norm, not graft's ConvNeXt's LayerNorm"],
  [/^convnextv2_/, "ConvNeXt V2's global response normalization, which graft's ConvNeXt lacks"],
];

/** The family that builds the config's architecture with its pooling; otherwise an error naming the architecture and the supported ones. */
export function timmFamily(config: TimmConfig, file: string): TimmFamily {
  const { architecture } = config;
  const family = TIMM_FAMILIES.find((f) => f.architectures.includes(architecture));
  if (!family) {
    const why = NOT_MAPPED.find(([re]) => re.test(architecture))?.[1];
    const supported = TIMM_FAMILIES.flatMap((f) => f.architectures).join(', ');
    throw new RangeError(`${file}: graft has no architecture "${architecture}"${why ? ` (${why})` : ''}; it builds timm's ${supported}`);
  }
  const pool = config.globalPool ?? family.pools[0];
  if (!family.pools.includes(pool)) throw invalidParameter(`global_pool in ${file}`, family.pools.map((p) => `'${p}'`).join(' or ') + ` (${family.poolMeaning})`, pool);
  return family;
}

/**
 * A timm checkpoint of the Hugging Face hub (`hf:<org>/<name>[@revision]`, `timm:<name>`), from
 * its cache or downloaded into it: config.json says the architecture and preprocessing,
 * model.safetensors holds timm's keys, mapped onto graft's ViT, ConvNeXt or EfficientNet. The
 * model carries the checkpoint's preprocessing, at the size it is built for.
 */
export async function createHubModel(spec: HubModelSpec, opts: HubModelOptions = {}): Promise<HubModel> {
  const files = opts.weights === null ? ['config.json'] : ['config.json', 'model.safetensors'];
  const snapshot = await resolveHubSnapshot(spec.repo, spec.revision ?? 'main', files);
  const configFile = join(snapshot.dir, 'config.json');
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(configFile, 'utf8'));
  } catch (e) {
    throw invalidType(configFile, 'a readable JSON file', (e as Error).message);
  }
  const config = parseTimmConfig(json, configFile);
  const family = timmFamily(config, configFile);
  const imageSize = opts.imageSize ?? config.imageSize;
  const model = family.build(config.architecture, imageSize, config.numClasses || (opts.numClasses ?? 1000));
  model.preprocessing = preprocessingAt(config.preprocessing, imageSize);
  if (opts.weights !== null) {
    const file = join(snapshot.dir, 'model.safetensors');
    const sd = family.fromTimm(await readSafetensors(file), model, file);
    // A checkpoint without a head (DINOv2's num_classes 0) keeps the model's new one.
    if (config.numClasses === 0) for (const [k, v] of model.stateDict()) if (k.startsWith(family.headPrefix)) sd.set(k, v);
    model.loadStateDict(sd, { source: file });
  }
  if (opts.numClasses !== undefined && opts.numClasses !== model.numClasses) model.resetClassifier(opts.numClasses);
  return model;
}
