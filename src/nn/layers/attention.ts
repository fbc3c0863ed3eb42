import type { Tensor } from '../../graph/tensor.ts';
import { Module } from '../module.ts';
import { Parameter } from '../parameter.ts';
import { Linear } from './linear.ts';
import { xavierUniform } from '../init.ts';
import { multiHeadSelfAttention } from '../attention.ts';
import { checkInteger, invalidParameter } from '../../errors/index.ts';

/**
 * torch.nn.MultiheadAttention for batch-first self-attention (query, key and value the same
 * sequence, no mask), with its parameters and state-dict keys: in_proj_weight [3E, E],
 * in_proj_bias [3E], out_proj.{weight, bias}, and its initialization.
 */
export class MultiheadAttention extends Module {
  in_proj_weight: Parameter;
  in_proj_bias: Parameter;
  out_proj: Linear;
  readonly embedDim: number;
  readonly numHeads: number;

  constructor(embedDim: number, numHeads: number) {
    super();
    this.embedDim = checkInteger('embedDim', embedDim, { min: 1 });
    this.numHeads = checkInteger('numHeads', numHeads, { min: 1 });
    if (embedDim % numHeads !== 0) throw invalidParameter('numHeads', `a divisor of embedDim (${embedDim})`, numHeads);
    this.in_proj_weight = new Parameter(xavierUniform([3 * embedDim, embedDim]), [3 * embedDim, embedDim]);
    this.in_proj_bias = new Parameter(new Float32Array(3 * embedDim), [3 * embedDim]);
    this.out_proj = new Linear(embedDim, embedDim);
    this.out_proj.bias!.assign(new Float32Array(embedDim));
  }

  forward(x: Tensor): Tensor {
    return multiHeadSelfAttention(x, this.in_proj_weight, this.in_proj_bias, this.out_proj.weight, this.out_proj.bias, this.numHeads);
  }

  protected override extraRepr(): string {
    return `embed_dim=${this.embedDim}, num_heads=${this.numHeads}`;
  }
}
