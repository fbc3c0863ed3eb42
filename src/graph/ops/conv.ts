import { defineOp } from '../op.ts';
import { check } from '../errors.ts';
import { int, ints } from '../emit.ts';

export type ConvAttrs = { stride: [number, number]; padding: [number, number]; dilation: [number, number]; groups: number };

export function convOutputSize(size: number, kernel: number, stride: number, pad: number, dilation: number): number {
  return Math.floor((size + 2 * pad - dilation * (kernel - 1) - 1) / stride) + 1;
}

/** 2-D convolution, NCHW input, OIHW weight, optional bias: PyTorch's conv2d. */
export const conv2d = defineOp<ConvAttrs>({
  name: 'conv2d',
  shape: ([x, w, b], { stride, padding, dilation, groups }) => {
    check(x.ndim === 4, `expected a 4-D input (N, C, H, W) but received ${x.ndim}-D`);
    check(w.ndim === 4, `expected a 4-D weight (out, in/groups, kH, kW) but received ${w.ndim}-D`);
    const [n, c, h, wd] = x.shape;
    const [o, ig, kh, kw] = w.shape;
    check(c === ig * groups, () => `input has ${c} channels but the weight expects ${ig * groups} (${ig} per group x ${groups} groups)`);
    check(o % groups === 0, () => `${o} output channels do not divide into ${groups} groups`);
    if (b) check(b.ndim === 1 && b.shape[0] === o, () => `bias of shape [${b.shape}] does not match ${o} output channels`);
    const oh = convOutputSize(h, kh, stride[0], padding[0], dilation[0]);
    const ow = convOutputSize(wd, kw, stride[1], padding[1], dilation[1]);
    check(oh > 0 && ow > 0, () => `input ${h}x${wd} is too small for kernel ${kh}x${kw} with padding ${padding} and dilation ${dilation}`);
    return { shape: [n, o, oh, ow] };
  },
  emit: (ctx, inputs, { stride, padding, dilation, groups }) => ctx.node('Conv', inputs, {
    strides: ints(stride),
    pads: ints([padding[0], padding[1], padding[0], padding[1]]),
    dilations: ints(dilation),
    group: int(groups),
  }),
});
