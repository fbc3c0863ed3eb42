import type { Tensor } from '../../graph/tensor.ts';
import { Module } from '../module.ts';
import * as F from '../functional.ts';

export class MaxPool2d extends Module {
  constructor(readonly kernelSize: F.Pair, readonly opts: F.PoolOptions = {}) { super(); }
  forward(x: Tensor): Tensor { return F.maxPool2d(x, this.kernelSize, this.opts); }
  protected override extraRepr(): string { return `kernel_size=${this.kernelSize}`; }
}

export class AvgPool2d extends Module {
  constructor(readonly kernelSize: F.Pair, readonly opts: F.PoolOptions = {}) { super(); }
  forward(x: Tensor): Tensor { return F.avgPool2d(x, this.kernelSize, this.opts); }
  protected override extraRepr(): string { return `kernel_size=${this.kernelSize}`; }
}

export class AdaptiveAvgPool2d extends Module {
  constructor(readonly outputSize: F.Pair) { super(); }
  forward(x: Tensor): Tensor { return F.adaptiveAvgPool2d(x, this.outputSize); }
  protected override extraRepr(): string { return `output_size=${this.outputSize}`; }
}
