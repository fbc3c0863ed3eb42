import type { Tensor } from '../../graph/tensor.ts';
import { Module } from '../module.ts';
import * as F from '../functional.ts';
import { checkNumber, invalidParameter } from '../../errors/index.ts';

export class Flatten extends Module {
  constructor(readonly startDim = 1, readonly endDim = -1) { super(); }
  forward(x: Tensor): Tensor { return F.flatten(x, this.startDim, this.endDim); }
}

export class Dropout extends Module {
  readonly p: number;
  constructor(p = 0.5, readonly opts: { inplace?: boolean } = {}) {
    super();
    this.p = checkNumber('p', p, { min: 0, max: 1 });
  }
  forward(x: Tensor): Tensor { return F.dropout(x, this.p, this.training); }
  protected override extraRepr(): string { return `p=${this.p}`; }
}

export class Identity extends Module {
  forward(x: Tensor): Tensor { return x; }
}

/** torchvision.ops.Permute: reorders the axes (ConvNeXt's switch to channels-last and back). */
export class Permute extends Module {
  constructor(readonly dims: readonly number[]) { super(); }
  forward(x: Tensor): Tensor { return F.permute(x, [...this.dims]); }
  protected override extraRepr(): string { return `dims=[${this.dims}]`; }
}

/**
 * torchvision.ops.StochasticDepth: drops a residual branch with probability p in training mode,
 * per sample ('row') or for the whole batch ('batch'); the identity in eval mode.
 */
export class StochasticDepth extends Module {
  readonly p: number;
  constructor(p: number, readonly mode: 'row' | 'batch') {
    super();
    this.p = checkNumber('p', p, { min: 0, max: 1 });
    if (mode !== 'row' && mode !== 'batch') throw invalidParameter('mode', "'row' or 'batch'", mode);
  }
  forward(x: Tensor): Tensor { return F.stochasticDepth(x, this.p, this.mode, this.training); }
  protected override extraRepr(): string { return `p=${this.p}, mode=${this.mode}`; }
}
