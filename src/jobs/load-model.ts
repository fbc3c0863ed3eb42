import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Module } from '../nn/module.ts';
import type { Preprocessing } from '../models/catalog.ts';
import { parseModelSpec, unknownModelMessage, type ModelSpec } from '../models/model-spec.ts';
import { createModel, IMAGENET_CATEGORIES } from '../models/registry.ts';
import { createHubModel } from '../models/hub-model.ts';
import { preprocessingFor } from '../models/preprocessing.ts';
import { createOnnxBackbone } from '../models/onnx-backbone.ts';
import { createTfjsModel } from '../models/tfjs-model.ts';
import { readOnnxModel } from '../formats/onnx-import.ts';
import { evalPreset } from '../data/transforms/presets.ts';
import type { Transform } from '../data/transforms/transform.ts';
import { currentRuntime, type Runtime } from '../runtime/runtime.ts';
import { MODEL_FILE, incompleteFolderMessage, isModelFolder, loadModelFolder, recoverModelFolder, type ModelManifest } from '../artifacts/model-folder.ts';

export interface LoadModelOptions {
  /**
   * Zoo models only: a weights variant ('DEFAULT', 'IMAGENET1K_V2'), a .pth/.safetensors file,
   * or null for random weights. 'DEFAULT' by default: a model loaded to run wants trained weights.
   * Other specs bring their own weights and accept only 'DEFAULT'.
   */
  weights?: string | null;
  /** Where the import probes run (ONNX files); the calling code's runtime by default. */
  runtime?: Runtime;
}

/** A model ready to run, with what it takes to feed it and read its outputs. */
export interface LoadedModel {
  /** What was loaded; a zoo name that is also a model folder here reads as the folder. */
  readonly spec: ModelSpec;
  /** Where the weights came from: a variant, a file, or null for random weights. */
  readonly weights: string | null;
  /** In eval mode, nothing trainable. */
  readonly model: Module;
  readonly preprocessing: Preprocessing;
  /** The eval transform of `preprocessing`: decoded image in, normalized CHW tensor out. */
  readonly transform: Transform;
  /** Class names by output index; null where the model does not name its outputs (ONNX files). */
  readonly labels: readonly string[] | null;
  /** What `forward` returns: scores that still need a softmax, or probabilities (a Teachable Machine export). */
  readonly outputs: 'logits' | 'probabilities';
  /** A model folder's graft.json; null for the other kinds. */
  readonly manifest: ModelManifest | null;
}

/**
 * Loads any model spec to run it: a trained model folder (its classes as labels), a zoo model
 * with ImageNet weights (ImageNet's categories), `tfjs:<model.json>` (a Teachable Machine export's
 * labels), or `onnx:<file>` (the whole model, or cut at `#tensor`; outputs named by index).
 */
export async function loadModel(spec: string | ModelSpec, opts: LoadModelOptions = {}): Promise<LoadedModel> {
  const runtime = opts.runtime ?? currentRuntime();
  return runtime.run(() => load(resolveSpec(spec), opts.weights === undefined ? 'DEFAULT' : opts.weights));
}

/** A model already loaded, as it is; a spec, loaded now (the jobs take either). */
export function loadedModel(model: LoadedModel | string | ModelSpec, opts: LoadModelOptions = {}): Promise<LoadedModel> {
  const loaded = typeof model === 'object' && model !== null && 'model' in model && 'transform' in model;
  return loaded ? Promise.resolve(model) : loadModel(model, opts);
}

/**
 * A folder that happens to carry a zoo name (`graft train --out mobilenet_v2`) is what its owner
 * means: `graft predict` has always looked for the folder first.
 */
function resolveSpec(spec: string | ModelSpec): ModelSpec {
  if (typeof spec !== 'string') return spec;
  const parsed = parseModelSpec(spec);
  if (parsed.kind === 'zoo' && isModelFolder(spec)) return { kind: 'folder', spec, dir: spec };
  return parsed;
}

async function load(spec: ModelSpec, weights: string | null): Promise<LoadedModel> {
  if (spec.kind !== 'zoo' && weights !== 'DEFAULT' && weights !== null) {
    throw new RangeError(`weights "${weights}" apply to zoo models; ${spec.spec} brings its own weights`);
  }
  const ready = (m: Omit<LoadedModel, 'transform' | 'manifest'> & { manifest?: ModelManifest }): LoadedModel => {
    m.model.eval();
    m.model.requiresGrad_(false);
    return { ...m, transform: evalPreset(m.preprocessing), manifest: m.manifest ?? null };
  };
  switch (spec.kind) {
    case 'folder': {
      // A run killed while it swapped the new folder in leaves it under a temporary name.
      if (!existsSync(spec.dir)) await recoverModelFolder(spec.dir);
      if (!isModelFolder(spec.dir)) {
        const meantAsPath = existsSync(spec.dir) || /[\\/]/.test(spec.dir) || spec.dir.startsWith('.');
        throw new RangeError(meantAsPath ? incompleteFolderMessage(spec.dir) : unknownModelMessage(spec.spec, 'accepted'));
      }
      const { model, manifest } = await loadModelFolder(spec.dir);
      return ready({
        spec, weights: join(spec.dir, MODEL_FILE), model, preprocessing: manifest.preprocessing, labels: manifest.classes,
        outputs: 'logits', manifest,
      });
    }
    case 'zoo': {
      const model = await createModel(spec.arch, { weights });
      return ready({ spec, weights, model, preprocessing: preprocessingFor(spec.arch, weights, model), labels: IMAGENET_CATEGORIES, outputs: 'logits' });
    }
    case 'hub': {
      const model = await createHubModel(spec);
      const labels = model.numClasses === IMAGENET_CATEGORIES.length ? IMAGENET_CATEGORIES : null;
      return ready({ spec, weights: spec.spec, model, preprocessing: model.preprocessing!, labels, outputs: 'logits' });
    }
    case 'onnx': {
      // Run as a model, an ONNX file is all of itself unless a tensor is named: its first output.
      const cut = spec.tensor ?? (await readOnnxModel(spec.file)).outputs[0]?.name;
      const model = await createOnnxBackbone({ ...spec, tensor: cut ?? null });
      return ready({ spec, weights: spec.file, model, preprocessing: model.preprocessing, labels: null, outputs: 'logits' });
    }
    case 'tfjs': {
      const model = await createTfjsModel(spec.modelJson, {});
      if (model.preprocessing === null) {
        throw new TypeError(`${spec.spec} does not say how its images are prepared (no Teachable Machine metadata.json), so graft cannot feed it`);
      }
      return ready({
        spec, weights: spec.modelJson, model, preprocessing: model.preprocessing, labels: model.labels,
        outputs: model.outputsProbabilities ? 'probabilities' : 'logits',
      });
    }
  }
}
