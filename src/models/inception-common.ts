import type { Tensor } from '../graph/tensor.ts';
import { constant } from '../graph/tensor.ts';
import { Module, Conv2d, BatchNorm2d, Linear } from '../nn/index.ts';
import type { Conv2dConfig } from '../nn/layers/conv.ts';
import * as F from '../nn/functional.ts';
import { truncatedNormals } from '../nn/init.ts';

/** The conv (no bias), batch norm (eps 0.001) and ReLU of torchvision's GoogLeNet and Inception v3. */
export class BasicConv2d extends Module {
  conv: Conv2d;
  bn: BatchNorm2d;

  constructor(inChannels: number, outChannels: number, kernelSize: F.Pair, cfg: Omit<Conv2dConfig, 'bias'> = {}) {
    super();
    this.conv = new Conv2d(inChannels, outChannels, kernelSize, { ...cfg, bias: false });
    this.bn = new BatchNorm2d(outChannels, { eps: 0.001 });
  }

  forward(x: Tensor): Tensor {
    return F.relu(this.bn.forward(this.conv.forward(x)));
  }
}

const MEAN = [0.485, 0.456, 0.406];
const STD = [0.229, 0.224, 0.225];

/**
 * torchvision's `transform_input`: re-normalizes an input normalized with ImageNet's mean and std
 * into the (x - 0.5) / 0.5 range the original Google weights were trained on. Both builders turn
 * it on with their pretrained weights.
 */
export function transformInput(x: Tensor): Tensor {
  const scale = constant(Float32Array.from(STD, (s) => s / 0.5), [1, 3, 1, 1]);
  const shift = constant(Float32Array.from(MEAN, (m) => (m - 0.5) / 0.5), [1, 3, 1, 1]);
  return F.add(F.mul(x, scale), shift);
}

/** A network with torchvision's `transform_input` switch. */
export interface TransformsInput extends Module { transformInput: boolean }

export function hasTransformInput(m: Module): m is TransformsInput {
  return typeof (m as unknown as { transformInput?: unknown }).transformInput === 'boolean';
}

/**
 * trunc_normal_ of every Conv2d and Linear weight with `std` (a per-module override where
 * torchvision sets one), batch norms left at ones and zeros.
 */
export function initTruncNormal(model: Module, std: number, overrides: ReadonlyMap<Module, number> = new Map()): void {
  for (const m of model.modules()) {
    if (m instanceof Conv2d || m instanceof Linear) {
      m.weight.assign(truncatedNormals(m.weight.size, 0, overrides.get(m) ?? std, -2, 2));
    }
  }
}
