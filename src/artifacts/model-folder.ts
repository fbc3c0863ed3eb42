import { cp, open, readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { basename, join, resolve, isAbsolute } from 'node:path';
import type { Preprocessing } from '../models/catalog.ts';
import { createClassifier } from '../models/classifier.ts';
import { hasTransformInput } from '../models/inception-common.ts';
import { formatModelSpec, parseModelSpec } from '../models/model-spec.ts';
import type { Staged } from '../models/stages.ts';
import { readSafetensors, writeSafetensors } from '../formats/safetensors.ts';
import { isTempName, removeStaleTemps, writeError, writeFileAtomic } from '../formats/atomic-write.ts';
import { findNonFinite } from '../nn/non-finite.ts';
import { skipInit } from '../nn/init.ts';
import { recoverFolder, replaceFolder } from './folder-swap.ts';
import { copyTfjsModel } from '../formats/tfjs.ts';

const utf8 = (text: string) => new TextEncoder().encode(text);

export const MODEL_FILE = 'model.safetensors';
export const MANIFEST_FILE = 'graft.json';
export const LABELS_FILE = 'labels.txt';
/** What graft writes into a model folder; anything else there is the owner's, and a rewrite keeps it. */
const WRITTEN = new Set([MODEL_FILE, MANIFEST_FILE, LABELS_FILE, 'report.html', 'backbone.onnx', 'backbone-tfjs']);

export interface SaveModelFolderOptions {
  /** Writes more files into the new folder before graft.json (the report). */
  extra?: (dir: string) => Promise<void>;
  /** Entries of the folder being replaced not to keep (a finished run's checkpoint). */
  drop?: readonly string[];
}

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
 * training config and metric history. A folder already there is replaced whole: the new one is
 * written beside it, graft.json last, and swapped in, so a folder with a graft.json is always
 * complete and its files belong together, even when the process is killed while writing.
 */
export async function saveModelFolder(
  dir: string, model: Staged, manifest: Omit<ModelManifest, 'format' | 'version' | 'createdAt'>, opts: SaveModelFolderOptions = {},
): Promise<void> {
  const drop = new Set(opts.drop ?? []);
  await replaceFolder(dir, async (into) => {
    const bundled = { ...manifest, model: await bundleBackbone(into, manifest.model) };
    await writeSafetensors(join(into, MODEL_FILE), model.stateDict(), { format: 'pt', graft_model: bundled.model });
    await writeFileAtomic(join(into, LABELS_FILE), [utf8(`${bundled.classes.join('\n')}\n`)]);
    await opts.extra?.(into);
    const full: ModelManifest = { format: 'graft-model', version: 1, ...bundled, createdAt: new Date().toISOString() };
    await writeFileAtomic(join(into, MANIFEST_FILE), [utf8(`${JSON.stringify(full, null, 1)}\n`)]);
  }, { marker: MANIFEST_FILE, carry: (name) => !WRITTEN.has(name) && !drop.has(name) && !isTempName(name) });
}

/**
 * Puts a model folder back in order after a process writing it was killed: finishes an
 * interrupted swap, and removes the temp files and folders writers that are gone left behind.
 */
export async function recoverModelFolder(dir: string): Promise<void> {
  await recoverFolder(dir, MANIFEST_FILE);
  await removeStaleTemps(dir);
}

/** A copy is flushed before graft.json names it, so the folder never points at a torn file. */
async function syncFile(path: string): Promise<void> {
  const handle = await open(path, 'r+');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * A foreign backbone's files are copied into the folder (an ONNX file; a TF.js model's own files),
 * so the folder is self-contained; the manifest names them relative to it.
 */
async function bundleBackbone(dir: string, spec: string): Promise<string> {
  const parsed = parseModelSpec(spec);
  if (parsed.kind === 'onnx') {
    const target = join(dir, 'backbone.onnx');
    if (resolve(parsed.file) !== resolve(target)) {
      await cp(parsed.file, target).catch((e: unknown) => { throw writeError(target, e); });
      await syncFile(target);
    }
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

/** The message for a folder that is not (or not yet) a model folder. */
export function incompleteFolderMessage(dir: string): string {
  return `${dir} is not a complete graft model folder (no ${MANIFEST_FILE}); graft train --out writes one`;
}

export async function readManifest(dir: string): Promise<ModelManifest> {
  const file = join(dir, MANIFEST_FILE);
  if (!existsSync(file)) throw new RangeError(incompleteFolderMessage(dir));
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
  // A ViT is built for the size it was trained at (its position embeddings); other families ignore it.
  const imageSize = manifest.preprocessing.cropSize;
  // Nothing drawn: the folder's weights replace every value. A zoo network is built before
  // createClassifier's first await, so within skipInit; a backbone read from a file first is drawn
  // as usual.
  const model = await skipInit(() => createClassifier(modelSpec(dir, manifest.model), { numClasses: manifest.classes.length, weights: null, trainableBackbone, imageSize }));
  if (model.numClasses !== manifest.classes.length) skipInit(() => model.resetClassifier(manifest.classes.length));
  const weights = join(dir, MODEL_FILE);
  const sd = await readSafetensors(weights);
  const bad = findNonFinite(sd);
  if (bad) {
    throw new RangeError(`${weights}: ${bad.key} holds a non-finite weight (${bad.value} at index ${bad.index}); the run that wrote this folder diverged, so its predictions would be NaN. Train again with a lower --lr`);
  }
  model.loadStateDict(sd, { source: weights });
  // Trained from torchvision's GoogLeNet or Inception v3 weights: the input transform they were made with.
  if (hasTransformInput(model) && manifest.pretrained !== null && /^(DEFAULT|IMAGENET1K_\w+)$/.test(manifest.pretrained)) model.transformInput = true;
  model.eval();
  return { model, manifest };
}
