import type { Tensor } from '../../graph/tensor.ts';
import { Module } from '../module.ts';
import { Parameter } from '../parameter.ts';
import { defaultWeight, uniform } from '../init.ts';
import * as F from '../functional.ts';
import { checkInteger } from '../../errors/index.ts';

export class Linear extends Module {
  weight: Parameter;
  bias: Parameter | null;
  readonly inFeatures: number;
  readonly outFeatures: number;

  constructor(inFeatures: number, outFeatures: number, opts: { bias?: boolean } = {}) {
    super();
    this.inFeatures = checkInteger('inFeatures', inFeatures, { min: 1 });
    this.outFeatures = checkInteger('outFeatures', outFeatures, { min: 1 });
    this.weight = new Parameter(defaultWeight([outFeatures, inFeatures]), [outFeatures, inFeatures]);
    const bound = 1 / Math.sqrt(inFeatures);
    this.bias = opts.bias === false ? null : new Parameter(uniform(outFeatures, -bound, bound), [outFeatures]);
  }

  forward(x: Tensor): Tensor {
    return F.linear(x, this.weight, this.bias);
  }

  protected override extraRepr(): string {
    return `in_features=${this.inFeatures}, out_features=${this.outFeatures}, bias=${this.bias !== null}`;
  }
}
