import type { Tensor } from '../../graph/tensor.ts';
import { Module } from '../module.ts';
import * as F from '../functional.ts';
import { invalidParameter } from '../../errors/index.ts';

/** Element-wise activations. `inplace` is accepted for familiarity; graphs have no in-place ops. */
export class ReLU extends Module {
  constructor(readonly opts: { inplace?: boolean } = {}) { super(); }
  forward(x: Tensor): Tensor { return F.relu(x); }
}
export class ReLU6 extends Module {
  constructor(readonly opts: { inplace?: boolean } = {}) { super(); }
  forward(x: Tensor): Tensor { return F.relu6(x); }
}
export class Hardswish extends Module {
  constructor(readonly opts: { inplace?: boolean } = {}) { super(); }
  forward(x: Tensor): Tensor { return F.hardswish(x); }
}
export class Hardsigmoid extends Module {
  constructor(readonly opts: { inplace?: boolean } = {}) { super(); }
  forward(x: Tensor): Tensor { return F.hardsigmoid(x); }
}
export class SiLU extends Module {
  constructor(readonly opts: { inplace?: boolean } = {}) { super(); }
  forward(x: Tensor): Tensor { return F.silu(x); }
}
export class Sigmoid extends Module {
  forward(x: Tensor): Tensor { return F.sigmoid(x); }
}
export class Tanh extends Module {
  forward(x: Tensor): Tensor { return F.tanh(x); }
}
/** GELU, exact (erf) by default or `approximate: 'tanh'`, as torch.nn.GELU. */
export class GELU extends Module {
  readonly approximate: 'none' | 'tanh';
  constructor(opts: { approximate?: 'none' | 'tanh' } = {}) {
    super();
    const approximate = opts.approximate ?? 'none';
    if (approximate !== 'none' && approximate !== 'tanh') throw invalidParameter('approximate', "'none' or 'tanh'", approximate);
    this.approximate = approximate;
  }
  forward(x: Tensor): Tensor { return F.gelu(x, this.approximate); }
  protected override extraRepr(): string { return this.approximate === 'tanh' ? "approximate='tanh'" : ''; }
}
