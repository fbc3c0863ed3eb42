import type { Module } from '../nn/module.ts';
import type { Preprocessing } from './catalog.ts';
import { weightsFor } from './registry.ts';
import { IMAGENET_EVAL } from '../data/transforms/presets.ts';

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
