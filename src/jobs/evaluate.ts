import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ImageFolder } from '../data/datasets/image-folder.ts';
import { DatasetError } from '../data/datasets/dataset.ts';
import { DataLoader, type SkippedFile } from '../data/loader.ts';
import { evalPreset } from '../data/transforms/presets.ts';
import { loadModelFolder } from '../artifacts/model-folder.ts';
import { evaluateImages } from '../train/loops.ts';
import type { EvalResult } from '../train/metrics.ts';

/** The split to evaluate on: test/ if the folder has one, else val/, else the folder itself. */
export function evaluationRoot(dir: string): string {
  for (const sub of ['test', 'val']) {
    const p = join(dir, sub);
    if (existsSync(p) && statSync(p).isDirectory()) return p;
  }
  return dir;
}

/**
 * Evaluates a trained model folder on a labelled image folder whose class folders carry the
 * model's class names (a subset is fine; an unknown class is an error).
 */
export async function evaluateFolder(modelDir: string, dataDir: string, opts: { batchSize?: number; onSkip?: (s: SkippedFile) => void } = {}):
  Promise<EvalResult & { files: string[]; root: string; skipped: SkippedFile[]; classes: string[] }> {
  const { model, manifest } = await loadModelFolder(modelDir);
  const root = evaluationRoot(dataDir);
  const found = new ImageFolder(root, { allowSingleClass: true });
  const unknown = found.classes.filter((c) => !manifest.classes.includes(c));
  if (unknown.length) {
    throw new DatasetError(`${root} has class folders the model does not know: ${unknown.join(', ')} (the model's classes: ${manifest.classes.join(', ')})`);
  }
  const data = new ImageFolder(root, { classes: manifest.classes, allowSingleClass: true });
  const skipped: SkippedFile[] = [];
  const loader = new DataLoader(data, { batchSize: opts.batchSize ?? 32, transform: evalPreset(manifest.preprocessing), onWarning: (s) => { skipped.push(s); opts.onSkip?.(s); } });
  model.requiresGrad_(false);
  try {
    return { ...(await evaluateImages(model, loader, manifest.classes)), root, skipped, classes: manifest.classes };
  } finally {
    await loader.close();
  }
}
