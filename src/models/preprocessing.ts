import type { Module } from '../nn/module.ts';
import type { Preprocessing } from './catalog.ts';
import { weightsFor } from './registry.ts';

/** torchvision's classic ImageNet eval transform (IMAGENET1K_V1): resize 256, center crop 224. */
export const IMAGENET_EVAL: Preprocessing = {
  resizeSize: 256, cropSize: 224, interpolation: 'bilinear', mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225],
};

/**
 * The eval preprocessing that weights expect: the model's own (imported backbones carry theirs),
 * the named variant's, or for a weights file the classic ImageNet transform, which checkpoints
 * trained the usual way expect.
 */
export function preprocessingFor(arch: string, weights: string | null, model?: Module): Preprocessing {
  const own = (model as unknown as { preprocessing?: Preprocessing } | undefined)?.preprocessing;
  if (own) return own;
  const entries = weightsFor(arch);
  const variant = weights === 'DEFAULT' ? entries.find((w) => w.isDefault) : entries.find((w) => w.name === weights);
  return (variant ?? entries.find((w) => w.name === 'IMAGENET1K_V1'))?.preprocessing ?? IMAGENET_EVAL;
}
