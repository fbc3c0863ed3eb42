import type { Tensor } from '../../graph/tensor.ts';
import { Module } from '../module.ts';
import * as F from '../functional.ts';

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
/** The exact (erf) GELU; `approximate: 'tanh'` is not offered. */
export class GELU extends Module {
  forward(x: Tensor): Tensor { return F.gelu(x); }
}
