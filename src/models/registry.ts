import type { Module } from '../nn/module.ts';
import { WEIGHTS_CATALOG, type WeightsEntry } from './catalog.ts';
import { IMAGENET_CATEGORIES } from './imagenet-categories.ts';
import { resolveWeights } from '../formats/download.ts';
import { readWeightsFile } from '../formats/weights-file.ts';
import { specOf } from '../nn/state-dict.ts';
import { skipInit } from '../nn/init.ts';
import { listModels, registerModel, zooBuilder, type Builder } from './zoo.ts';
import { parseModelSpec, unknownModelMessage } from './model-spec.ts';
import { createTfjsModel } from './tfjs-model.ts';
import { createOnnxBackbone } from './onnx-backbone.ts';
import { hasTransformInput } from './inception-common.ts';
import { createHubModel } from './hub-model.ts';

export interface ModelOptions {
  /** Output classes of the classifier; must be 1000 when ImageNet weights are loaded. */
  numClasses?: number;
  /**
   * Pretrained weights: a variant name ('IMAGENET1K_V1', 'IMAGENET1K_V2', 'DEFAULT'), or a path to a
   * .pth or .safetensors state dict. Omitted or null: random initialization.
   */
  weights?: string | null;
  /** Show a download progress bar (default: when stderr is a terminal). */
  progress?: boolean;
  /**
   * The square input a ViT or MaxViT is built for (torchvision's image_size or input_size, default
   * 224); weights trained at another size (ViT's SWAG_E2E_V1 at 384, 512 or 518) set it themselves.
   * Other families ignore it.
   */
  imageSize?: number;
}

export function weightsFor(arch: string): WeightsEntry[] {
  return WEIGHTS_CATALOG.filter((w) => w.arch === arch);
}

/** The catalog entry for `arch` and a variant name ('DEFAULT' picks torchvision's default). */
export function findWeights(arch: string, variant: string): WeightsEntry {
  const entries = weightsFor(arch);
  const found = variant === 'DEFAULT' ? entries.find((w) => w.isDefault) : entries.find((w) => w.name === variant);
  if (!found) {
    throw new RangeError(`Unknown weights "${variant}" for ${arch}; expected one of ${['DEFAULT', ...entries.map((w) => w.name)].join(', ')}`);
  }
  return found;
}

const isVariantName = (s: string) => /^(DEFAULT|IMAGENET1K_\w+)$/.test(s);

export function modelBuilder(arch: string): Builder {
  const b = zooBuilder(arch);
  if (!b) throw new RangeError(`Unknown model "${arch}"; expected one of ${listModels().join(', ')}`);
  return b;
}

/**
 * Builds a zoo model, with pretrained weights when asked: a variant is found in graft's cache, in
 * PyTorch's cache or downloaded (hash-checked); a file path is read directly. Keys and shapes
 * must match exactly. `tfjs:path/to/model.json` imports a TF.js layers model (a Teachable Machine
 * export), weights included: see TfjsLayersModel for its labels, preprocessing and `features`.
 * `onnx:path/to/model.onnx#tensor` imports an ONNX model cut at a tensor as a frozen backbone.
 * A trained model folder is not built here but loaded (`loadModelFolder`, `jobs.loadModel`).
 */
export async function createModel(spec: string, opts: ModelOptions = {}): Promise<Module> {
  const parsed = parseModelSpec(spec);
  if (parsed.kind === 'tfjs') return createTfjsModel(parsed.modelJson, opts);
  if (parsed.kind === 'onnx') return createOnnxBackbone(parsed, opts);
  if (parsed.kind === 'folder') throw new RangeError(unknownModelMessage(spec, 'not accepted'));
  if (parsed.kind === 'hub') return createHubModel(parsed, { numClasses: opts.numClasses, imageSize: opts.imageSize, weights: opts.weights === null ? null : undefined });
  const arch = parsed.arch;
  const build = modelBuilder(arch);
  const weights = opts.weights ?? null;
  if (weights !== null && isVariantName(weights)) {
    const entry = findWeights(arch, weights);
    if (opts.numClasses !== undefined && opts.numClasses !== entry.numClasses) {
      throw new RangeError(`numClasses ${opts.numClasses} contradicts the weights ${arch}.${entry.name}, which have ${entry.numClasses} classes; load them, then replace the classifier`);
    }
    const file = await resolveWeights({ url: entry.url, fileName: entry.fileName, sha256Prefix: entry.sha256Prefix, progress: opts.progress });
    if (opts.imageSize !== undefined && entry.imageSize !== undefined && opts.imageSize !== entry.imageSize) {
      throw new RangeError(`imageSize ${opts.imageSize} contradicts the weights ${arch}.${entry.name}, which were trained for ${entry.imageSize} x ${entry.imageSize} inputs`);
    }
    // Nothing drawn: the weights replace every value (keys and shapes must match exactly).
    const model = skipInit(() => build({ imageSize: entry.imageSize }));
    model.loadStateDict(await readWeightsFile(file, { expected: specOf(model.stateDict()) }), { source: file });
    // torchvision's GoogLeNet and Inception v3 builders turn transform_input on with their weights.
    if (hasTransformInput(model)) model.transformInput = true;
    return model;
  }
  const made = () => build({ numClasses: opts.numClasses, imageSize: opts.imageSize });
  if (weights === null) return made();
  // Nothing drawn: the file replaces every value (keys and shapes must match exactly).
  const model = skipInit(made);
  model.loadStateDict(await readWeightsFile(weights, { expected: specOf(model.stateDict()) }), { source: weights });
  return model;
}

export { IMAGENET_CATEGORIES, listModels, registerModel };
