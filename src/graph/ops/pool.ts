import { apply, defineOp, type OpDef } from '../op.ts';
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

export const maxPool2d: OpDef<PoolAttrs> = defineOp<PoolAttrs>({
  name: 'max_pool2d',
  shape: ([x], a) => ({ shape: poolShape(x, a) }),
  emit: (ctx, [x], a) => ctx.node('MaxPool', [x], { ...poolAttrs(a), dilations: ints(a.dilation) }),
  grad: (g, _out, [x], a) => [apply(maxPool2dGrad, [g, x], a)],
});

/**
 * dL/dX of max pooling: each window's gradient goes to the place its maximum came from. ONNX
 * Runtime's MaxPool gives those places as flat indices; a ScatterElements with reduction 'add'
 * sums the contributions of overlapping windows (ResNet's 3x3 stride-2 pool).
 */
export const maxPool2dGrad: OpDef<PoolAttrs> = defineOp<PoolAttrs>({
  name: 'max_pool2d_grad',
  shape: ([g, x], a) => {
    const expected = poolShape(x, a);
    check(g.shape.every((d, i) => d === expected[i]), () => `gradient [${g.shape}] does not match the pooled shape [${expected}]`);
    return { shape: [...x.shape] };
  },
  emit: (ctx, [g, x], a, out) => {
    const [, indices] = ctx.nodeMulti('MaxPool', [x], 2, { ...poolAttrs(a), dilations: ints(a.dilation) });
    const total = out.size;
    const zeros = ctx.node('Expand', [ctx.constant([0], []), ctx.int64s([total])]);
    const flatIndices = ctx.node('Reshape', [indices, ctx.int64s([-1])]);
    const flatG = ctx.node('Reshape', [g, ctx.int64s([-1])]);
    const scattered = ctx.node('ScatterElements', [zeros, flatIndices, flatG], { axis: int(0), reduction: { string: 'add' } });
    return ctx.node('Reshape', [scattered, ctx.int64s(out.shape)]);
  },
});

export const avgPool2d: OpDef<PoolAttrs> = defineOp<PoolAttrs>({
  name: 'avg_pool2d',
  shape: ([x], a) => {
    check(a.dilation[0] === 1 && a.dilation[1] === 1, 'average pooling has no dilation');
    return { shape: poolShape(x, a) };
  },
  emit: (ctx, [x], a) => ctx.node('AveragePool', [x], { ...poolAttrs(a), count_include_pad: int(a.countIncludePad ? 1 : 0) }),
  grad: (g, _out, [x], a) => [apply(avgPool2dGrad, [g], { ...a, inputShape: [...x.shape] })],
});

/**
 * PyTorch's divisor for each output cell of an average pool (the window clipped to the padded
 * input, or to the input itself when padding is not counted), row-major over (OH, OW).
 */
function avgPoolDivisors(a: PoolAttrs, size: [number, number], out: [number, number]): Float32Array {
  const spans = (axis: 0 | 1) => Array.from({ length: out[axis] }, (_, o) => {
    const start = o * a.stride[axis] - a.padding[axis];
    const end = Math.min(start + a.kernel[axis], size[axis] + a.padding[axis]);
    const withPad = end - start;
    const inside = Math.min(end, size[axis]) - Math.max(start, 0);
    return a.countIncludePad ? withPad : inside;
  });
  const rows = spans(0);
  const cols = spans(1);
  const d = new Float32Array(out[0] * out[1]);
  rows.forEach((r, i) => cols.forEach((c, j) => { d[i * out[1] + j] = r * c; }));
  return d;
}

/**
 * dL/dX of average pooling: each window's gradient, divided by its divisor, spread evenly over
 * the window. A ConvTranspose with a kernel of ones over (N*C, 1, OH, OW) does the spreading;
 * its far-end pads cut what falls outside the input.
 */
export const avgPool2dGrad: OpDef<PoolAttrs & { inputShape: number[] }> = defineOp<PoolAttrs & { inputShape: number[] }>({
  name: 'avg_pool2d_grad',
  shape: ([g], a) => {
    check(g.ndim === 4 && a.inputShape.length === 4, 'expected a 4-D gradient and input');
    return { shape: [...a.inputShape] };
  },
  emit: (ctx, [g], a, out) => {
    const [n, c, h, w] = a.inputShape;
    const [, , oh, ow] = out.inputs[0].shape;
    const divided = ctx.node('Div', [g, ctx.constant(avgPoolDivisors(a, [h, w], [oh, ow]), [oh, ow])]);
    const planes = ctx.node('Reshape', [divided, ctx.int64s([n * c, 1, oh, ow])]);
    const size = [h, w];
    const far = [0, 1].map((i) => a.stride[i] * ([oh, ow][i] - 1) + a.kernel[i] - a.padding[i] - size[i]);
    const ones = ctx.constant(new Float32Array(a.kernel[0] * a.kernel[1]).fill(1), [1, 1, ...a.kernel]);
    const spread = ctx.node('ConvTranspose', [planes, ones], {
      strides: ints(a.stride),
      pads: ints([a.padding[0], a.padding[1], Math.max(far[0], 0), Math.max(far[1], 0)]),
      output_padding: ints([Math.max(-far[0], 0), Math.max(-far[1], 0)]),
    });
    return ctx.node('Reshape', [spread, ctx.int64s(a.inputShape)]);
  },
  // Linear in g, and its adjoint is the pooling itself.
  grad: (gg, _out, _inputs, { inputShape, ...pool }) => [apply(avgPool2d, [gg], pool)],
});

/** Mean over H and W, keeping them as 1x1: adaptive average pooling to (1, 1). */
export const globalAvgPool: OpDef<{}> = defineOp<{}>({
  name: 'global_avg_pool',
  shape: ([x]) => {
    check(x.ndim === 4, `expected a 4-D input (N, C, H, W) but received ${x.ndim}-D`);
    return { shape: [x.shape[0], x.shape[1], 1, 1] };
  },
  emit: (ctx, [x]) => ctx.node('GlobalAveragePool', [x]),
  grad: (g, _out, [x]) => [g.expand(x.shape).mul(1 / (x.shape[2] * x.shape[3]))],
});
