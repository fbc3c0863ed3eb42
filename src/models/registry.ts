import type { Module } from '../nn/module.ts';
import { WEIGHTS_CATALOG, type WeightsEntry } from './catalog.ts';
import { IMAGENET_CATEGORIES } from './imagenet-categories.ts';
import { resolveWeights } from '../formats/download.ts';
import { readWeightsFile } from '../formats/weights-file.ts';
import * as resnet from './resnet.ts';
import * as vgg from './vgg.ts';
import * as mnv2 from './mobilenetv2.ts';
import * as mnv3 from './mobilenetv3.ts';
import { createTfjsModel } from './tfjs-model.ts';
import { createOnnxBackbone } from './onnx-backbone.ts';

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
}

type Builder = (cfg: { numClasses?: number }) => Module;

const builders = new Map<string, Builder>();

/** Adds an architecture to the zoo; a name can be registered once. */
export function registerModel(name: string, builder: Builder): void {
  if (builders.has(name)) throw new Error(`A model named "${name}" is already registered`);
  builders.set(name, builder);
}

// In the order torchvision documents them (module namespaces list their exports alphabetically).
const ZOO: [string, Builder][] = [
  ['resnet18', resnet.resnet18], ['resnet34', resnet.resnet34], ['resnet50', resnet.resnet50],
  ['resnet101', resnet.resnet101], ['resnet152', resnet.resnet152],
  ['resnext50_32x4d', resnet.resnext50_32x4d], ['wide_resnet50_2', resnet.wide_resnet50_2],
  ['vgg11', vgg.vgg11], ['vgg11_bn', vgg.vgg11_bn], ['vgg13', vgg.vgg13], ['vgg13_bn', vgg.vgg13_bn],
  ['vgg16', vgg.vgg16], ['vgg16_bn', vgg.vgg16_bn], ['vgg19', vgg.vgg19], ['vgg19_bn', vgg.vgg19_bn],
  ['mobilenet_v2', mnv2.mobilenet_v2], ['mobilenet_v3_small', mnv3.mobilenet_v3_small], ['mobilenet_v3_large', mnv3.mobilenet_v3_large],
];
for (const [name, build] of ZOO) registerModel(name, build);

export function listModels(): string[] {
  return [...builders.keys()];
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
  const b = builders.get(arch);
  if (!b) throw new RangeError(`Unknown model "${arch}"; expected one of ${listModels().join(', ')}`);
  return b;
}

/**
 * Builds a zoo model, with pretrained weights when asked: a variant is found in graft's cache, in
 * PyTorch's cache or downloaded (hash-checked); a file path is read directly. Keys and shapes
 * must match exactly. `tfjs:path/to/model.json` imports a TF.js layers model (a Teachable Machine
 * export), weights included: see TfjsLayersModel for its labels, preprocessing and `features`.
 * `onnx:path/to/model.onnx#tensor` imports an ONNX model cut at a tensor as a frozen backbone.
 */
export async function createModel(arch: string, opts: ModelOptions = {}): Promise<Module> {
  if (arch.startsWith('tfjs:')) return createTfjsModel(arch.slice('tfjs:'.length), opts);
  if (arch.startsWith('onnx:')) return createOnnxBackbone(arch.slice('onnx:'.length), opts);
  const build = modelBuilder(arch);
  const weights = opts.weights ?? null;
  if (weights !== null && isVariantName(weights)) {
    const entry = findWeights(arch, weights);
    if (opts.numClasses !== undefined && opts.numClasses !== entry.numClasses) {
      throw new RangeError(`numClasses ${opts.numClasses} contradicts the weights ${arch}.${entry.name}, which have ${entry.numClasses} classes; load them, then replace the classifier`);
    }
    const file = await resolveWeights({ url: entry.url, fileName: entry.fileName, sha256Prefix: entry.sha256Prefix, progress: opts.progress });
    const model = build({});
    model.loadStateDict(await readWeightsFile(file), { source: file });
    return model;
  }
  const model = build({ numClasses: opts.numClasses });
  if (weights !== null) model.loadStateDict(await readWeightsFile(weights), { source: weights });
  return model;
}

export { IMAGENET_CATEGORIES };
