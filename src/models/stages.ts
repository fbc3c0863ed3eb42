import type { Tensor } from '../graph/tensor.ts';
import type { Module } from '../nn/module.ts';

/**
 * A network as an ordered list of stages whose composition is its forward pass: the stem and
 * blocks of the backbone, the pooling that makes the embedding, and the classifier head. The
 * trainer freezes and unfreezes by stage (`--unfreeze N`), gives earlier stages lower learning
 * rates (two-stage fine-tuning), and caches the embedding when only the head trains.
 */
export interface Stage {
  readonly name: string;
  /** The modules whose parameters belong to this stage (none for pooling). */
  readonly modules: readonly Module[];
  forward(x: Tensor): Tensor;
}

export interface Staged extends Module {
  /** Backbone stages, then the stage named 'pool' (embedding), then the stage named 'head'. */
  stages(): Stage[];
  /** Replaces the last Linear with a new one for `numClasses` outputs, initialized as nn.Linear. */
  resetClassifier(numClasses: number): void;
  /** Outputs of the current classifier. */
  readonly numClasses: number;
}

export function isStaged(m: Module): m is Staged {
  const s = m as unknown as Partial<Staged>;
  return typeof s.stages === 'function' && typeof s.resetClassifier === 'function';
}

export const stage = (name: string, modules: readonly Module[], forward: (x: Tensor) => Tensor): Stage => ({ name, modules, forward });

/** Runs stages in order. */
export function runStages(stages: readonly Stage[], x: Tensor): Tensor {
  for (const s of stages) x = s.forward(x);
  return x;
}

/** Splits at the pooling stage: everything up to the embedding, and the head. */
export function splitAtHead(stages: readonly Stage[]): { backbone: Stage[]; head: Stage[] } {
  const i = stages.findIndex((s) => s.name === 'head');
  return { backbone: stages.slice(0, i), head: stages.slice(i) };
}
