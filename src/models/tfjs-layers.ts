import type { Tensor } from '../graph/tensor.ts';
import { Module, Parameter, BatchNorm2d, Dropout } from '../nn/index.ts';
import * as F from '../nn/functional.ts';
import { ShapeError } from '../graph/errors.ts';
import { currentScope } from '../graph/scope.ts';

/**
 * Keras layers as graft modules. Keras is channels-last (NHWC); graft's ops are NCHW, so every
 * 4-D tensor of an imported model is held as NCHW and the layers translate: the channel axis of a
 * 4-D tensor is 1, weights are converted once when loaded (HWIO kernels to OIHW, Dense [in, out]
 * to Linear's [out, in]), and only layers whose result depends on the memory order (Flatten,
 * Reshape) go through NHWC. Tensors of other ranks keep Keras' layout.
 */

/** graft's axis for a Keras axis (negative allowed) of a rank-`ndim` tensor. */
export function graftAxis(kerasAxis: number, ndim: number): number {
  const a = kerasAxis < 0 ? kerasAxis + ndim : kerasAxis;
  if (ndim !== 4) return a;
  return [0, 2, 3, 1][a];
}

const NCHW_TO_NHWC = [0, 2, 3, 1];
const NHWC_TO_NCHW = [0, 3, 1, 2];

export type KerasActivation = 'linear' | 'relu' | 'relu6' | 'sigmoid' | 'softmax' | 'swish' | 'silu';
export const KERAS_ACTIVATIONS: readonly KerasActivation[] = ['linear', 'relu', 'relu6', 'sigmoid', 'softmax', 'swish', 'silu'];

export function activate(x: Tensor, name: KerasActivation): Tensor {
  switch (name) {
    case 'linear': return x;
    case 'relu': return F.relu(x);
    case 'relu6': return F.relu6(x);
    case 'sigmoid': return F.sigmoid(x);
    case 'softmax': return F.softmax(x, graftAxis(-1, x.ndim));
    case 'swish': case 'silu': return F.silu(x);
  }
}

/** TF's 'same' padding of one axis: the odd pixel goes after (bottom/right), unlike PyTorch's symmetric padding. */
export function samePadding(size: number, kernel: number, stride: number, dilation: number): [number, number] {
  const out = Math.ceil(size / stride);
  const total = Math.max((out - 1) * stride + (kernel - 1) * dilation + 1 - size, 0);
  const before = Math.floor(total / 2);
  return [before, total - before];
}

function expect4d(x: Tensor, layer: string): void {
  if (x.ndim !== 4) throw new ShapeError(layer, currentScope(), `expected a 4-D image tensor but received ${x.ndim}-D`, [x.shape]);
}

export interface ConvSpec {
  kernel: [number, number];
  stride: [number, number];
  dilation: [number, number];
  padding: 'same' | 'valid';
  groups: number;
  activation: KerasActivation;
}

/** Conv2D and DepthwiseConv2D (a convolution with one group per input channel). */
export class KerasConv2D extends Module {
  weight: Parameter;
  bias: Parameter | null;

  constructor(weightOIHW: Float32Array, shape: number[], bias: Float32Array | null, readonly spec: ConvSpec) {
    super();
    this.weight = new Parameter(weightOIHW, shape);
    this.bias = bias ? new Parameter(bias, [shape[0]]) : null;
  }

  forward(x: Tensor): Tensor {
    expect4d(x, 'conv2d');
    const { kernel, stride, dilation, groups } = this.spec;
    let padding: [number, number] = [0, 0];
    if (this.spec.padding === 'same') {
      const [top, bottom] = samePadding(x.shape[2], kernel[0], stride[0], dilation[0]);
      const [left, right] = samePadding(x.shape[3], kernel[1], stride[1], dilation[1]);
      if (top === bottom && left === right) padding = [top, left];
      else x = F.pad(x, [left, right, top, bottom]);
    }
    const y = F.conv2d(x, this.weight, this.bias, { stride, padding, dilation, groups });
    return activate(y, this.spec.activation);
  }

  protected override extraRepr(): string {
    const [o, i] = this.weight.shape;
    return `${i * this.spec.groups}, ${o}, kernel_size=(${this.spec.kernel}), stride=(${this.spec.stride}), padding=${this.spec.padding}`
      + (this.spec.groups > 1 ? `, groups=${this.spec.groups}` : '') + (this.bias ? '' : ', bias=False')
      + (this.spec.activation !== 'linear' ? `, activation=${this.spec.activation}` : '');
  }
}

/** Dense: Linear with Keras' optional activation. Its input must be 2-D (N, features). */
export class KerasDense extends Module {
  weight: Parameter;
  bias: Parameter | null;

  constructor(weight: Float32Array, readonly inFeatures: number, readonly outFeatures: number, bias: Float32Array | null, readonly activation: KerasActivation) {
    super();
    this.weight = new Parameter(weight, [outFeatures, inFeatures]);
    this.bias = bias ? new Parameter(bias, [outFeatures]) : null;
  }

  forward(x: Tensor): Tensor {
    if (x.ndim !== 2) {
      throw new ShapeError('dense', currentScope(), `graft imports Dense layers on 2-D inputs (N, features) but this one receives ${x.ndim}-D`, [x.shape]);
    }
    return activate(F.linear(x, this.weight, this.bias), this.activation);
  }

  protected override extraRepr(): string {
    return `in_features=${this.inFeatures}, out_features=${this.outFeatures}, bias=${this.bias !== null}`
      + (this.activation !== 'linear' ? `, activation=${this.activation}` : '');
  }
}

/**
 * BatchNormalization over the channel axis. Keras' momentum weighs the old running value
 * (0.99); PyTorch's weighs the new batch value: the module gets 1 - momentum.
 */
export function kerasBatchNorm(
  channels: number, eps: number, kerasMomentum: number,
  w: { gamma: Float32Array | null; beta: Float32Array | null; mean: Float32Array; variance: Float32Array },
): BatchNorm2d {
  const bn = new BatchNorm2d(channels, { eps, momentum: 1 - kerasMomentum });
  // scale=false or center=false: Keras has no such weight; a fixed 1 or 0 is the same function.
  if (w.gamma) bn.weight.assign(w.gamma);
  else bn.weight.requiresGrad = false;
  if (w.beta) bn.bias.assign(w.beta);
  else bn.bias.requiresGrad = false;
  bn.running_mean.assign(w.mean);
  bn.running_var.assign(w.variance);
  return bn;
}

/** Keras' ReLU layer: min(max(x, 0), maxValue); graft imports it without negative slope or threshold. */
export class KerasReLU extends Module {
  constructor(readonly maxValue: number | null) { super(); }
  forward(x: Tensor): Tensor {
    return this.maxValue === null ? F.relu(x) : F.clamp(x, 0, this.maxValue);
  }
  protected override extraRepr(): string { return this.maxValue === null ? '' : `max_value=${this.maxValue}`; }
}

export class KerasActivationLayer extends Module {
  constructor(readonly activation: KerasActivation) { super(); }
  forward(x: Tensor): Tensor { return activate(x, this.activation); }
  protected override extraRepr(): string { return this.activation; }
}

/** ZeroPadding2D: [[top, bottom], [left, right]]. */
export class KerasZeroPadding2D extends Module {
  constructor(readonly padding: [[number, number], [number, number]]) { super(); }
  forward(x: Tensor): Tensor {
    expect4d(x, 'zero_padding2d');
    const [[top, bottom], [left, right]] = this.padding;
    return F.pad(x, [left, right, top, bottom]);
  }
  protected override extraRepr(): string { return `padding=${JSON.stringify(this.padding)}`; }
}

/** GlobalAveragePooling2D / GlobalMaxPooling2D: (N, C, H, W) -> (N, C), or (N, C, 1, 1) with keepdims. */
export class KerasGlobalPooling2D extends Module {
  constructor(readonly kind: 'average' | 'max', readonly keepdims: boolean) { super(); }
  forward(x: Tensor): Tensor {
    expect4d(x, 'global_pooling2d');
    return this.kind === 'average' ? F.mean(x, [2, 3], this.keepdims) : F.amax(x, [2, 3], this.keepdims);
  }
  protected override extraRepr(): string { return `${this.kind}${this.keepdims ? ', keepdims' : ''}`; }
}

/** Flatten in Keras' order: a 4-D tensor is flattened as NHWC, so a Dense after it sees TF's feature order. */
export class KerasFlatten extends Module {
  forward(x: Tensor): Tensor {
    if (x.ndim === 4) x = F.permute(x, NCHW_TO_NHWC);
    return x.ndim <= 2 ? x : F.flatten(x, 1);
  }
}

/** Reshape to (N, ...targetShape), in Keras' (channels-last) memory order. */
export class KerasReshape extends Module {
  constructor(readonly targetShape: number[]) { super(); }
  forward(x: Tensor): Tensor {
    if (x.ndim === 4) x = F.permute(x, NCHW_TO_NHWC);
    let y = F.reshape(x, [x.shape[0], ...this.targetShape]);
    if (y.ndim === 4) y = F.permute(y, NHWC_TO_NCHW);
    return y;
  }
  protected override extraRepr(): string { return `target_shape=(${this.targetShape})`; }
}

/** Merging layers: Add, Multiply, Concatenate (along a Keras axis). */
export class KerasMerge extends Module {
  constructor(readonly kind: 'add' | 'multiply' | 'concatenate', readonly axis = -1) { super(); }
  forward(...xs: Tensor[]): Tensor {
    if (this.kind === 'concatenate') return F.cat(xs, graftAxis(this.axis, xs[0].ndim));
    const op = this.kind === 'add' ? F.add : F.mul;
    return xs.slice(1).reduce((acc, x) => op(acc, x), xs[0]);
  }
  protected override extraRepr(): string { return this.kind === 'concatenate' ? `${this.kind}, axis=${this.axis}` : this.kind; }
}

/** Rescaling: x * scale + offset (Keras' preprocessing layer). */
export class KerasRescaling extends Module {
  constructor(readonly scale: number, readonly offset: number) { super(); }
  forward(x: Tensor): Tensor { return F.add(F.mul(x, this.scale), this.offset); }
  protected override extraRepr(): string { return `scale=${this.scale}, offset=${this.offset}`; }
}

export { Dropout };
