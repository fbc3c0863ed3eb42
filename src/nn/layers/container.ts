import type { Tensor } from '../../graph/tensor.ts';
import { invalidType } from '../../errors/index.ts';
import { Module } from '../module.ts';

/**
 * Modules run in order; children are named "0", "1", ... as in PyTorch, so `classifier[1]` reads
 * and replaces the second one and state-dict keys are `classifier.1.weight`.
 */
export class Sequential extends Module {
  [index: number]: Module;

  constructor(...modules: Module[]) {
    super();
    modules.forEach((m, i) => {
      if (!(m instanceof Module)) throw invalidType(`position ${i} of Sequential`, 'a Module', m);
      this[i] = m;
    });
  }

  /** A Sequential whose children have names (torch's Sequential(OrderedDict(...))): `features.conv0`. */
  static named(entries: readonly (readonly [string, Module])[]): Sequential {
    const seq = new Sequential();
    for (const [name, m] of entries) {
      if (!(m instanceof Module)) throw invalidType(`${name} of Sequential`, 'a Module', m);
      (seq as unknown as Record<string, Module>)[name] = m;
    }
    return seq;
  }

  get length(): number {
    return [...this.namedChildren()].length;
  }

  forward(x: Tensor): Tensor {
    for (const m of this.children()) x = m.forward(x);
    return x;
  }
}
