import type { Tensor } from '../../graph/tensor.ts';
import { Module } from '../module.ts';
import * as F from '../functional.ts';
import { checkNumber } from '../../errors/index.ts';

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
