import type { Tensor } from '../../graph/tensor.ts';
import { Module } from '../module.ts';
import { Parameter } from '../parameter.ts';
import * as F from '../functional.ts';
import { checkInteger, checkNumber } from '../../errors/index.ts';

/** torch.nn.LayerNorm with an elementwise affine weight and bias: normalizes the last axes. */
export class LayerNorm extends Module {
  weight: Parameter;
  bias: Parameter;
  readonly normalizedShape: readonly number[];
  readonly eps: number;

  constructor(normalizedShape: number | readonly number[], opts: { eps?: number } = {}) {
    super();
    const shape = typeof normalizedShape === 'number' ? [normalizedShape] : [...normalizedShape];
    shape.forEach((d, i) => checkInteger(`normalizedShape[${i}]`, d, { min: 1 }));
    this.normalizedShape = shape;
    this.eps = checkNumber('eps', opts.eps ?? 1e-5, { min: 0 });
    const n = shape.reduce((a, b) => a * b, 1);
    this.weight = new Parameter(new Float32Array(n).fill(1), shape);
    this.bias = new Parameter(new Float32Array(n), shape);
  }

  forward(x: Tensor): Tensor {
    return F.layerNorm(x, this.normalizedShape, this.weight, this.bias, this.eps);
  }

  protected override extraRepr(): string {
    return `(${this.normalizedShape}), eps=${this.eps}`;
  }
}

/**
 * torchvision's LayerNorm2d (ConvNeXt): layer norm over the channels of an NCHW tensor, computed
 * as torchvision does, channels-last in between.
 */
export class LayerNorm2d extends LayerNorm {
  override forward(x: Tensor): Tensor {
    return F.permute(super.forward(F.permute(x, [0, 2, 3, 1])), [0, 3, 1, 2]);
  }
}
