import { cp, mkdir, readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { basename, join, resolve, isAbsolute } from 'node:path';
import type { Preprocessing } from '../models/catalog.ts';
import { createClassifier } from '../models/classifier.ts';
import { formatModelSpec, parseModelSpec } from '../models/model-spec.ts';
import type { Staged } from '../models/stages.ts';
import { readSafetensors, writeSafetensors } from '../formats/safetensors.ts';
import { writeFileAtomic } from '../formats/atomic-write.ts';
import { copyTfjsModel } from '../formats/tfjs.ts';

const utf8 = (text: string) => new TextEncoder().encode(text);

export const MODEL_FILE = 'model.safetensors';
export const MANIFEST_FILE = 'graft.json';
export const LABELS_FILE = 'labels.txt';

/** What graft.json holds: enough to rebuild, run and describe the trained model. */
export interface ModelManifest {
  format: 'graft-model';
  version: 1;
  /** The architecture (a zoo name, or onnx:/tfjs: with a path relative to the folder). */
  model: string;
  /** Where the starting weights came from. */
  pretrained: string | null;
  classes: string[];
  preprocessing: Preprocessing;
  training: Record<string, unknown>;
  metrics: Record<string, unknown>;
  history: unknown[];
  createdAt: string;
}

/**
 * Writes a trained model folder: weights (safetensors, torchvision's keys), labels, preprocessing,
 * training config and metric history. Each file is renamed into place whole, and graft.json goes
 * last, so a folder with a graft.json is always complete.
 */
export async function saveModelFolder(dir: string, model: Staged, manifest: Omit<ModelManifest, 'format' | 'version' | 'createdAt'>): Promise<void> {
  await mkdir(dir, { recursive: true });
  manifest = { ...manifest, model: await bundleBackbone(dir, manifest.model) };
  await writeSafetensors(join(dir, MODEL_FILE), model.stateDict(), { format: 'pt', graft_model: manifest.model });
  await writeFileAtomic(join(dir, LABELS_FILE), [utf8(`${manifest.classes.join('\n')}\n`)]);
  const full: ModelManifest = { format: 'graft-model', version: 1, ...manifest, createdAt: new Date().toISOString() };
  await writeFileAtomic(join(dir, MANIFEST_FILE), [utf8(`${JSON.stringify(full, null, 1)}\n`)]);
}

/**
 * A foreign backbone's files are copied into the folder (an ONNX file; a TF.js model's own files),
 * so the folder is self-contained; the manifest names them relative to it.
 */
async function bundleBackbone(dir: string, spec: string): Promise<string> {
  const parsed = parseModelSpec(spec);
  if (parsed.kind === 'onnx') {
    const target = join(dir, 'backbone.onnx');
    if (resolve(parsed.file) !== resolve(target)) await cp(parsed.file, target);
    return formatModelSpec({ ...parsed, file: 'backbone.onnx' });
  }
  if (parsed.kind === 'tfjs') {
    await copyTfjsModel(parsed.modelJson, join(dir, 'backbone-tfjs'));
    return formatModelSpec({ ...parsed, modelJson: `backbone-tfjs/${basename(parsed.modelJson)}` });
  }
  return spec;
}

export function isModelFolder(path: string): boolean {
  return existsSync(join(path, MANIFEST_FILE));
}

export async function readManifest(dir: string): Promise<ModelManifest> {
  const file = join(dir, MANIFEST_FILE);
  let m: ModelManifest;
  try {
    m = JSON.parse(await readFile(file, 'utf8'));
  } catch (e) {
    throw new Error(`Cannot read ${file}: ${(e as Error).message}`);
  }
  if (m.format !== 'graft-model') throw new Error(`${file} is not a graft model manifest (format is ${JSON.stringify(m.format)})`);
  if (m.version !== 1) throw new Error(`${file} has version ${m.version}; this graft reads version 1`);
  if (!Array.isArray(m.classes) || m.classes.length < 2) throw new Error(`${file}: "classes" should list at least two class names`);
  return m;
}

/** Resolves a foreign backbone's path against the folder it was saved in. */
function modelSpec(dir: string, model: string): string {
  const parsed = parseModelSpec(model);
  if (parsed.kind === 'onnx' && !isAbsolute(parsed.file)) return formatModelSpec({ ...parsed, file: resolve(dir, parsed.file) });
  if (parsed.kind === 'tfjs' && !isAbsolute(parsed.modelJson)) return formatModelSpec({ ...parsed, modelJson: resolve(dir, parsed.modelJson) });
  return model;
}

/** Loads a trained model folder back: the network with its trained head, in eval mode. */
export async function loadModelFolder(dir: string): Promise<{ model: Staged; manifest: ModelManifest }> {
  const manifest = await readManifest(dir);
  const t = manifest.training as { mode?: string; unfreeze?: number };
  const trainableBackbone = t.mode !== undefined && (t.mode !== 'frozen' || (t.unfreeze ?? 0) > 0);
  const model = await createClassifier(modelSpec(dir, manifest.model), { numClasses: manifest.classes.length, weights: null, trainableBackbone });
  if (model.numClasses !== manifest.classes.length) model.resetClassifier(manifest.classes.length);
  const weights = join(dir, MODEL_FILE);
  model.loadStateDict(await readSafetensors(weights), { source: weights });
  model.eval();
  return { model, manifest };
}
