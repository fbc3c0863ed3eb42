import './tensor-api.ts';
import { Tensor, constant, tensor } from '../graph/tensor.ts';
import { random } from './init.ts';
import { apply } from '../graph/op.ts';
import * as ops from '../graph/ops/index.ts';
import * as T from '../graph/functional.ts';
import { ShapeError } from '../graph/errors.ts';
import { checkNumber } from '../errors/index.ts';
import { currentScope } from '../graph/scope.ts';

/** torch.nn.functional for graft tensors. Re-exports the tensor-level ops too. */
export * from '../graph/functional.ts';

export type Pair = number | [number, number];
const pair = (v: Pair): [number, number] => (typeof v === 'number' ? [v, v] : v);

export interface Conv2dOptions { stride?: Pair; padding?: Pair; dilation?: Pair; groups?: number }

export function conv2d(x: Tensor, weight: Tensor, bias: Tensor | null = null, o: Conv2dOptions = {}): Tensor {
  const inputs = bias ? [x, weight, bias] : [x, weight];
  return apply(ops.conv2d, inputs, {
    stride: pair(o.stride ?? 1), padding: pair(o.padding ?? 0), dilation: pair(o.dilation ?? 1), groups: o.groups ?? 1,
  });
}

export function linear(x: Tensor, weight: Tensor, bias: Tensor | null = null): Tensor {
  return apply(ops.linear, bias ? [x, weight, bias] : [x, weight], {});
}

/**
 * Batch norm with the given running statistics (inference form). Training-mode batch norm, with
 * batch statistics, lives in the BatchNorm2d module because it also updates the running buffers.
 */
export function batchNorm(x: Tensor, runningMean: Tensor, runningVar: Tensor, weight: Tensor, bias: Tensor, eps = 1e-5): Tensor {
  return apply(ops.batchNormInference, [x, weight, bias, runningMean, runningVar], { eps });
}

export const relu = T.relu;
export const relu6 = (x: Tensor) => T.clamp(x, 0, 6);
export const hardswish = (x: Tensor) => apply(ops.hardswish, [x], {});
export const hardsigmoid = (x: Tensor) => apply(ops.hardsigmoid, [x], {});
export const sigmoid = T.sigmoid;
/** x * sigmoid(x); one op whose gradient recomputes the sigmoid (graph/ops/elementwise.ts). */
export const silu = (x: Tensor) => apply(ops.silu, [x], {});
/** GELU: the exact (erf) one, PyTorch's default approximate='none', or its tanh approximation. */
export const gelu = (x: Tensor, approximate: 'none' | 'tanh' = 'none') => apply(approximate === 'tanh' ? ops.geluTanh : ops.gelu, [x], {});
export const tanh = (x: Tensor) => apply(ops.tanh, [x], {});

/** layer_norm(x, normalizedShape, weight, bias, eps): normalizes the last normalizedShape.length axes. */
export function layerNorm(x: Tensor, normalizedShape: readonly number[], weight: Tensor, bias: Tensor, eps = 1e-5): Tensor {
  const tail = x.shape.slice(x.ndim - normalizedShape.length);
  if (normalizedShape.length > x.ndim || tail.some((d, i) => d !== normalizedShape[i])) {
    throw new ShapeError('layer_norm', currentScope(), `normalized shape [${normalizedShape}] does not end input shape [${x.shape}]`, [x.shape]);
  }
  return apply(ops.layerNorm, [x, weight, bias], { dims: normalizedShape.length, eps });
}

/** torch.nn.functional.channel_shuffle: interleaves `groups` groups of channels (ShuffleNet). */
export const channelShuffle = (x: Tensor, groups: number) => apply(ops.channelShuffle, [x], { groups });

export interface PoolOptions { stride?: Pair | null; padding?: Pair; dilation?: Pair; ceilMode?: boolean; countIncludePad?: boolean }

export function maxPool2d(x: Tensor, kernelSize: Pair, o: PoolOptions = {}): Tensor {
  const kernel = pair(kernelSize);
  return apply(ops.maxPool2d, [x], {
    kernel, stride: pair(o.stride ?? kernel), padding: pair(o.padding ?? 0), dilation: pair(o.dilation ?? 1),
    ceilMode: o.ceilMode ?? false, countIncludePad: true,
  });
}

export function avgPool2d(x: Tensor, kernelSize: Pair, o: PoolOptions = {}): Tensor {
  const kernel = pair(kernelSize);
  return apply(ops.avgPool2d, [x], {
    kernel, stride: pair(o.stride ?? kernel), padding: pair(o.padding ?? 0), dilation: [1, 1],
    ceilMode: o.ceilMode ?? false, countIncludePad: o.countIncludePad ?? true,
  });
}

/**
 * PyTorch's window for output cell i of n over a length-`size` axis: [floor(i*size/n), ceil((i+1)*size/n)).
 */
function adaptiveWindows(size: number, n: number): [number, number][] {
  return Array.from({ length: n }, (_, i) => [Math.floor((i * size) / n), Math.ceil(((i + 1) * size) / n)]);
}

/**
 * Adaptive average pooling to (oh, ow). A global mean when the output is 1x1, a plain average pool
 * when the sizes divide, and otherwise (e.g. VGG's 7x7 from a small input) a product with a
 * pooling matrix, which is exact for any sizes.
 */
export function adaptiveAvgPool2d(x: Tensor, outputSize: Pair): Tensor {
  if (x.ndim !== 4) throw new ShapeError('adaptive_avg_pool2d', currentScope(), `expected a 4-D input (N, C, H, W) but received ${x.ndim}-D`, [x.shape]);
  const [oh, ow] = pair(outputSize);
  const [n, c, h, w] = x.shape;
  if (oh === h && ow === w) return x;
  if (oh === 1 && ow === 1) return apply(ops.globalAvgPool, [x], {});
  if (h % oh === 0 && w % ow === 0) return avgPool2d(x, [h / oh, w / ow]);
  const rows = adaptiveWindows(h, oh);
  const cols = adaptiveWindows(w, ow);
  const m = new Float32Array(h * w * oh * ow);
  rows.forEach(([r0, r1], i) => cols.forEach(([c0, c1], j) => {
    const weight = 1 / ((r1 - r0) * (c1 - c0));
    for (let r = r0; r < r1; r++) for (let q = c0; q < c1; q++) m[(r * w + q) * oh * ow + i * ow + j] = weight;
  }));
  const pooled = T.matmul(T.reshape(x, [n, c, h * w]), constant(m, [h * w, oh * ow]));
  return T.reshape(pooled, [n, c, oh, ow]);
}

/**
 * Dropout: the identity in eval mode; in training mode each value is zeroed with probability p
 * and the rest scaled by 1/(1-p). The mask is drawn on the host with the seedable generator
 * (`manualSeed`) and fed as data, so every step runs the same compiled graph.
 */
export function dropout(x: Tensor, p = 0.5, training = false): Tensor {
  checkNumber('p', p, { min: 0, max: 1 });
  if (!training || p === 0) return x;
  const mask = new Float32Array(x.size);
  if (p < 1) {
    const keep = 1 / (1 - p);
    for (let i = 0; i < mask.length; i++) mask[i] = random() < p ? 0 : keep;
  }
  return T.mul(x, tensor(mask, x.shape));
}
export * from './losses.ts';

/**
 * torchvision.ops.stochastic_depth: in training mode, drops the whole residual branch of each
 * sample ('row') or of the batch ('batch') with probability p and scales what is kept by 1/(1-p);
 * the identity in eval mode. The mask is drawn on the host with the seedable generator, as
 * dropout's is, and fed as data.
 */
export function stochasticDepth(x: Tensor, p: number, mode: 'row' | 'batch', training = true): Tensor {
  checkNumber('p', p, { min: 0, max: 1 });
  if (!training || p === 0) return x;
  const survival = 1 - p;
  const rows = mode === 'row' ? x.shape[0] : 1;
  const mask = new Float32Array(rows);
  for (let i = 0; i < rows; i++) mask[i] = random() < survival ? 1 / survival : 0;
  return T.mul(x, tensor(mask, [rows, ...x.shape.slice(1).map(() => 1)]));
}

