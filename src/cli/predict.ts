import { createModel, IMAGENET_CATEGORIES } from '../models/registry.ts';
import { preprocessingFor } from '../models/preprocessing.ts';
import { predictFiles } from '../models/predictor.ts';
import { evalPreset } from '../data/transforms/presets.ts';
import { isModelFolder, loadModelFolder } from '../artifacts/model-folder.ts';

interface PredictFlags { model: string; weights: string; topk: number; batchSize: number; json?: boolean }

/** A trained model folder, or a zoo architecture with ImageNet weights. */
async function classifier(flags: PredictFlags) {
  if (isModelFolder(flags.model)) {
    const { model, manifest } = await loadModelFolder(flags.model);
    return { model, transform: evalPreset(manifest.preprocessing), labels: manifest.classes };
  }
  const model = await createModel(flags.model, { weights: flags.weights });
  return { model, transform: evalPreset(preprocessingFor(flags.model, flags.weights, model)), labels: IMAGENET_CATEGORIES };
}

export async function predictCommand(images: string[], flags: PredictFlags): Promise<void> {
  const { model, transform, labels } = await classifier(flags);
  model.requiresGrad_(false);
  const topk = Math.min(flags.topk, labels.length);
  const results = await predictFiles(model, images, { transform, labels, topk, batchSize: flags.batchSize });
  if (flags.json) {
    process.stdout.write(`${JSON.stringify(results.map((r) => ({ file: r.file, top: r.top.map((t) => ({ ...t, prob: +t.prob.toFixed(6) })), ...(r.error ? { error: r.error } : {}) })), null, 1)}\n`);
  } else {
    for (const r of results) {
      if (r.error) { process.stdout.write(`${r.file}: ERROR ${r.error}\n`); continue; }
      process.stdout.write(`${r.file}\n${r.top.map((t) => `  ${(t.prob * 100).toFixed(2).padStart(6)}%  ${t.label} (${t.index})`).join('\n')}\n`);
    }
  }
  const failed = results.filter((r) => r.error);
  if (failed.length) {
    process.stderr.write(`graft: ${failed.length} of ${results.length} images could not be read: ${failed.map((r) => r.file).join(', ')}\n`);
    process.exitCode = 1;
  }
}
