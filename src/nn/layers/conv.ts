import type { Tensor } from '../../graph/tensor.ts';
import { Module } from '../module.ts';
import { Parameter } from '../parameter.ts';
import { defaultWeight, uniform } from '../init.ts';
import * as F from '../functional.ts';
import { checkInteger, invalidParameter } from '../../errors/index.ts';

export interface Conv2dConfig { stride?: F.Pair; padding?: F.Pair; dilation?: F.Pair; groups?: number; bias?: boolean }

const pair = (v: F.Pair): [number, number] => (typeof v === 'number' ? [v, v] : v);

export class Conv2d extends Module {
  weight: Parameter;
  bias: Parameter | null;
  readonly inChannels: number;
  readonly outChannels: number;
  readonly kernelSize: [number, number];
  readonly stride: [number, number];
  readonly padding: [number, number];
  readonly dilation: [number, number];
  readonly groups: number;

  constructor(inChannels: number, outChannels: number, kernelSize: F.Pair, cfg: Conv2dConfig = {}) {
    super();
    this.inChannels = checkInteger('inChannels', inChannels, { min: 1 });
    this.outChannels = checkInteger('outChannels', outChannels, { min: 1 });
    this.kernelSize = pair(kernelSize);
    this.stride = pair(cfg.stride ?? 1);
    this.padding = pair(cfg.padding ?? 0);
    this.dilation = pair(cfg.dilation ?? 1);
    this.groups = checkInteger('groups', cfg.groups ?? 1, { min: 1 });
    if (inChannels % this.groups || outChannels % this.groups) {
      throw invalidParameter('groups', `a divisor of inChannels (${inChannels}) and outChannels (${outChannels})`, this.groups);
    }
    const shape = [outChannels, inChannels / this.groups, ...this.kernelSize];
    this.weight = new Parameter(defaultWeight(shape), shape);
    const bound = 1 / Math.sqrt(shape[1] * shape[2] * shape[3]);
    this.bias = cfg.bias === false ? null : new Parameter(uniform(outChannels, -bound, bound), [outChannels]);
  }

  forward(x: Tensor): Tensor {
    return F.conv2d(x, this.weight, this.bias, { stride: this.stride, padding: this.padding, dilation: this.dilation, groups: this.groups });
  }

  protected override extraRepr(): string {
    return `${this.inChannels}, ${this.outChannels}, kernel_size=(${this.kernelSize}), stride=(${this.stride})`
      + (this.padding.some(Boolean) ? `, padding=(${this.padding})` : '')
      + (this.groups > 1 ? `, groups=${this.groups}` : '') + (this.bias ? '' : ', bias=False');
  }
}
