import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { defaultGraftCacheDir, defaultTorchCacheDir } from '../formats/download.ts';
import { listModels, weightsFor } from '../models/registry.ts';
import type { BackboneChoice } from './api.ts';
import { BUNDLED_BACKBONE } from './options.ts';

/** Whether a weights file is in graft's cache or PyTorch's, where the zoo looks before downloading. */
function cached(fileName: string): boolean {
  return [defaultGraftCacheDir(), defaultTorchCacheDir()].some((dir) => existsSync(join(dir, fileName)));
}

/**
 * The backbones the train form offers: the bundled int8 MobileNetV2 first (the default, it trains
 * offline), ONNX files imported into the project's backbones/ folder, then the zoo with its
 * default ImageNet weights and the figures `graft models` shows.
 */
export function backboneChoices(projectRoot: string): BackboneChoice[] {
  const bundled: BackboneChoice = {
    spec: BUNDLED_BACKBONE, label: 'MobileNetV2, int8 (bundled, works offline)', needsDownload: false,
    params: null, acc1: null, resize: null, crop: null, isDefault: true,
  };
  const importedDir = join(projectRoot, 'backbones');
  const imported: BackboneChoice[] = existsSync(importedDir)
    ? readdirSync(importedDir).filter((n) => !n.startsWith('.')).flatMap((n): BackboneChoice[] => {
      const file = join(importedDir, n);
      if (n.toLowerCase().endsWith('.onnx')) return [{ spec: `onnx:${file}`, label: `${n} (imported ONNX)`, needsDownload: false, params: null, acc1: null, resize: null, crop: null, isDefault: false }];
      if (existsSync(join(file, 'model.json'))) return [{ spec: `tfjs:${join(file, 'model.json')}`, label: `${n} (imported TF.js)`, needsDownload: false, params: null, acc1: null, resize: null, crop: null, isDefault: false }];
      return [];
    })
    : [];
  const zoo = listModels().flatMap((arch): BackboneChoice[] => {
    const w = weightsFor(arch).find((e) => e.isDefault);
    if (!w) return [];
    return [{
      spec: arch, label: `${arch} (${w.name})`, needsDownload: !cached(w.fileName),
      params: w.numParams, acc1: w.acc1, resize: w.preprocessing.resizeSize, crop: w.preprocessing.cropSize, isDefault: false,
    }];
  });
  return [bundled, ...imported, ...zoo];
}
