import { defineOp } from '../op.ts';
import { check } from '../errors.ts';
import { int, ints } from '../emit.ts';

export type PoolAttrs = {
  kernel: [number, number]; stride: [number, number]; padding: [number, number];
  dilation: [number, number]; ceilMode: boolean; countIncludePad: boolean;
};

/** PyTorch's pooled size, including its rule that the last window must start inside the input. */
export function poolOutputSize(size: number, k: number, s: number, p: number, d: number, ceil: boolean): number {
  const span = size + 2 * p - d * (k - 1) - 1;
  let out = (ceil ? Math.ceil(span / s) : Math.floor(span / s)) + 1;
  if (ceil && (out - 1) * s >= size + p) out--;
  return out;
}

function poolShape(x: { ndim: number; shape: readonly number[] }, a: PoolAttrs): number[] {
  check(x.ndim === 4, `expected a 4-D input (N, C, H, W) but received ${x.ndim}-D`);
  check(a.padding[0] * 2 <= a.kernel[0] && a.padding[1] * 2 <= a.kernel[1], () => `padding ${a.padding} should be at most half of kernel ${a.kernel}`);
  const [n, c, h, w] = x.shape;
  const oh = poolOutputSize(h, a.kernel[0], a.stride[0], a.padding[0], a.dilation[0], a.ceilMode);
  const ow = poolOutputSize(w, a.kernel[1], a.stride[1], a.padding[1], a.dilation[1], a.ceilMode);
  check(oh > 0 && ow > 0, () => `input ${h}x${w} is too small for kernel ${a.kernel}`);
  return [n, c, oh, ow];
}

function poolAttrs(a: PoolAttrs) {
  return {
    kernel_shape: ints(a.kernel),
    strides: ints(a.stride),
    pads: ints([a.padding[0], a.padding[1], a.padding[0], a.padding[1]]),
    ceil_mode: int(a.ceilMode ? 1 : 0),
  };
}

export const maxPool2d = defineOp<PoolAttrs>({
  name: 'max_pool2d',
  shape: ([x], a) => ({ shape: poolShape(x, a) }),
  emit: (ctx, [x], a) => ctx.node('MaxPool', [x], { ...poolAttrs(a), dilations: ints(a.dilation) }),
});

export const avgPool2d = defineOp<PoolAttrs>({
  name: 'avg_pool2d',
  shape: ([x], a) => {
    check(a.dilation[0] === 1 && a.dilation[1] === 1, 'average pooling has no dilation');
    return { shape: poolShape(x, a) };
  },
  emit: (ctx, [x], a) => ctx.node('AveragePool', [x], { ...poolAttrs(a), count_include_pad: int(a.countIncludePad ? 1 : 0) }),
});

/** Mean over H and W, keeping them as 1x1: adaptive average pooling to (1, 1). */
export const globalAvgPool = defineOp<{}>({
  name: 'global_avg_pool',
  shape: ([x]) => {
    check(x.ndim === 4, `expected a 4-D input (N, C, H, W) but received ${x.ndim}-D`);
    return { shape: [x.shape[0], x.shape[1], 1, 1] };
  },
  emit: (ctx, [x]) => ctx.node('GlobalAveragePool', [x]),
});
