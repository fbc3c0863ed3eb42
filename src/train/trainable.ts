import type { Parameter } from '../nn/parameter.ts';
import type { Module } from '../nn/module.ts';
import type { Stage } from '../models/stages.ts';
import type { ParamGroupSpec } from './optimizer-setup.ts';

const paramsOf = (s: Stage): Parameter[] => s.modules.flatMap((m: Module) => [...m.parameters()]);

/**
 * Which stages train, and at which learning rate. The head always trains; `unfrozen` more stages
 * counted back from the embedding train with it. With `discriminative`, the head gets `lr` and
 * each earlier stage a geometrically smaller rate, down to lr/100 for the first (fastai's
 * slice(lr/100, lr)). Everything else is frozen (requiresGrad = false).
 */
export function setTrainable(stages: readonly Stage[], unfrozen: number, lr: number, discriminative = false): ParamGroupSpec[] {
  const withParams = stages.filter((s) => paramsOf(s).length > 0);
  const headIndex = withParams.findIndex((s) => s.name === 'head');
  const first = Math.max(0, headIndex - unfrozen);
  for (const s of withParams) for (const p of paramsOf(s)) p.requiresGrad = false;
  const training = withParams.slice(first);
  const n = training.length;
  return training.map((s, i) => {
    for (const p of paramsOf(s)) p.requiresGrad = true;
    const rate = discriminative && n > 1 ? lr * Math.pow(100, -(n - 1 - i) / (n - 1)) : lr;
    return { params: paramsOf(s), lr: rate };
  });
}

/** Backbone stages (everything before the head) count, for `unfreeze: all`. */
export function backboneStageCount(stages: readonly Stage[]): number {
  return stages.filter((s) => s.name !== 'head' && s.name !== 'pool' && paramsOf(s).length > 0).length;
}

/** True when only the head trains: the backbone is then a fixed function whose output can be cached. */
export function onlyHeadTrains(stages: readonly Stage[]): boolean {
  return stages.every((s) => s.name === 'head' || paramsOf(s).every((p) => !p.requiresGrad));
}
