import { copyFileSync, mkdirSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';

const sample = resolve(import.meta.dirname, '..', '..', 'assets', 'sample-data', 'hymenoptera-mini');

/** The bundled int8 MobileNetV2, as a model spec: a frozen backbone that trains a head in seconds. */
export const INT8_BACKBONE = `onnx:${resolve(import.meta.dirname, '..', '..', 'assets', 'backbones', 'mobilenetv2-12-int8.onnx')}`;

/**
 * A copy of the first files of the bundled ants-and-bees sample, `train` and `val` images per
 * class, in `dir`/train and `dir`/val: small enough for a training job to finish in seconds.
 */
export function smallDataset(dir: string, counts: { train: number; val: number }): string {
  for (const split of ['train', 'val'] as const) {
    for (const cls of ['ants', 'bees']) {
      const from = join(sample, split, cls);
      const to = join(dir, split, cls);
      mkdirSync(to, { recursive: true });
      for (const f of readdirSync(from).sort().slice(0, counts[split])) copyFileSync(join(from, f), join(to, f));
    }
  }
  return dir;
}
