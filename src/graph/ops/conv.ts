import { apply, defineOp, type OpDef } from '../op.ts';
import type { Tensor } from '../tensor.ts';
import { check } from '../errors.ts';
import { int, ints, type EmitContext } from '../emit.ts';
import { emitConv, reorderInput } from './conv-blocked.ts';

export type ConvAttrs = { stride: [number, number]; padding: [number, number]; dilation: [number, number]; groups: number };

export function convOutputSize(size: number, kernel: number, stride: number, pad: number, dilation: number): number {
  return Math.floor((size + 2 * pad - dilation * (kernel - 1) - 1) / stride) + 1;
}

/** 2-D convolution, NCHW input, OIHW weight, optional bias: PyTorch's conv2d. */
export const conv2d: OpDef<ConvAttrs> = defineOp<ConvAttrs>({
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
  emit: (ctx, [x, w, b], { stride, padding, dilation, groups }, out) => emitConv(ctx, x, w, b ?? null, {
    strides: stride, pads: [padding[0], padding[1], padding[0], padding[1]], dilations: dilation, group: groups,
  }, out.inputs[0].shape[1], out.inputs[1].shape, out.inputs[1]),
  // The textbook rule; a per-channel factor of g moves onto the weight-sized operands in a rewrite
  // (autodiff/rewrites/channel-scale-onto-weights.ts).
  grad: (g, _out, [x, w, b], attrs) => [
    apply(conv2dInputGrad, [g, w], { ...attrs, inputShape: [...x.shape] }),
    apply(conv2dWeightGrad, [x, g], { ...attrs, weightShape: [...w.shape] }),
    b ? g.sum([0, 2, 3]) : null,
  ],
});

/**
 * dL/dX of conv2d, from dY (N, O, OH, OW) and the weight: for stride 1 a Conv with the kernel
 * flipped in space and transposed in channels (per group), so ONNX Runtime runs it with its fastest
 * convolution; for strided layers a ConvTranspose.
 */
export const conv2dInputGrad: OpDef<ConvAttrs & { inputShape: number[] }> = defineOp<ConvAttrs & { inputShape: number[] }>({
  name: 'conv2d_input_grad',
  shape: ([g, w], { inputShape, groups }) => {
    check(g.ndim === 4 && w.ndim === 4, 'expected a 4-D gradient and a 4-D weight');
    check(g.shape[1] === w.shape[0], () => `gradient has ${g.shape[1]} channels but the weight has ${w.shape[0]} outputs`);
    check(inputShape[1] === w.shape[1] * groups, () => `input channels ${inputShape[1]} do not match the weight`);
    return { shape: [...inputShape] };
  },
  emit: (ctx, [g, w], a, out) => emitInputGrad(ctx, g, w, a, out.inputs[1].shape, out.inputs[1]),
  // Linear in both operands: the adjoint of dX = A(dY, W) is the convolution itself.
  grad: (gg, _out, [g, w], a) => {
    const { inputShape, ...conv } = a;
    return [
      apply(conv2d, [gg, w], conv),
      apply(conv2dWeightGrad, [gg, g], { ...conv, weightShape: [...w.shape] }),
    ];
  },
});

function emitInputGrad(
  ctx: EmitContext, g: string, w: string, a: ConvAttrs & { inputShape: number[] }, wShape: readonly number[], weight: Tensor,
): string {
  const { stride, padding, dilation, groups, inputShape } = a;
  const [o, ig, kh, kw] = wShape;
  const k = [kh, kw];
  const size = [inputShape[2], inputShape[3]];
  // What the forward conv left unread at the far end of each axis (floor of the output size).
  const rest = [0, 1].map((i) => (size[i] + 2 * padding[i] - dilation[i] * (k[i] - 1) - 1) % stride[i]);
  const near = [0, 1].map((i) => dilation[i] * (k[i] - 1) - padding[i]);
  // Strided layers: ONNX Runtime's ConvTranspose, faster than one stride-1 convolution over all
  // output phases and a DepthToSpace (see bench/NOTES.md, "Strided input gradients").
  if (stride[0] > 1 || stride[1] > 1 || near.some((p) => p < 0)) {
    return ctx.node('ConvTranspose', [g, w], {
      strides: ints(stride), dilations: ints(dilation), group: int(groups),
      pads: ints([padding[0], padding[1], padding[0], padding[1]]), output_padding: ints(rest),
    });
  }
  const convAttrs = { strides: [1, 1], dilations: dilation, group: groups, pads: [near[0], near[1], near[0] + rest[0], near[1] + rest[1]] };
  return emitConv(ctx, g, w, null, convAttrs, o, [groups * ig, o / groups, kh, kw], weight, 'input-grad');
}

/**
 * dL/dW of conv2d, from X and dY: matrix products over an im2col of X (see emitWeightGrad), so no
 * ConvTranspose or dilated convolution is needed and ONNX Runtime runs large GEMMs.
 */
export const conv2dWeightGrad: OpDef<ConvAttrs & { weightShape: number[] }> = defineOp<ConvAttrs & { weightShape: number[] }>({
  name: 'conv2d_weight_grad',
  shape: ([x, g], { weightShape }) => {
    check(x.ndim === 4 && g.ndim === 4, 'expected a 4-D input and a 4-D gradient');
    check(x.shape[0] === g.shape[0], () => `batch sizes differ: ${x.shape[0]} vs ${g.shape[0]}`);
    return { shape: [...weightShape] };
  },
  emit: (ctx, [x, g], a, out) => emitWeightGrad(ctx, x, g, a, out.inputs[0].shape, out.inputs[1].shape),
  grad: (gw, _out, [x, g], a) => {
    const { weightShape, ...conv } = a;
    return [
      apply(conv2dInputGrad, [g, gw], { ...conv, inputShape: [...x.shape] }),
      apply(conv2d, [x, gw], conv),
    ];
  },
});

type WeightGradAttrs = ConvAttrs & { weightShape: number[] };

function emitWeightGrad(ctx: EmitContext, x: string, g: string, a: WeightGradAttrs, xShape: readonly number[], gShape: readonly number[]): string {
  const { groups, weightShape } = a;
  const [n, c] = xShape;
  const [, o, oh, ow] = gShape;
  const [, ig, kh, kw] = weightShape;
  const og = o / groups;
  const k = kh * kw;
  if (og === 1 && ig === 1 && groups > 1) {
    if (ctx.blockSize && (n * c) % ctx.blockSize === 0) return emitDepthwiseWeightGradBlocked(ctx, x, g, a, xShape, gShape);
    return emitDepthwiseWeightGrad(ctx, x, g, a, xShape, gShape);
  }
  if (groups === 1 && perImagePays(o, c, k, oh * ow)) return emitPerImageWeightGrad(ctx, x, g, a, xShape, gShape);
  if (groups > 1) return emitGroupedWeightGrad(ctx, x, g, a, xShape, gShape);
  // Channels first: im2col (C*K, N, OH, OW) against dY as (O, N, OH, OW), one GEMM.
  const l = n * oh * ow;
  const cols = ctx.node('Transpose', [readsWindows(a, xShape, gShape) ? emitUnfold(ctx, x, a, c, [kh, kw]) : x], { perm: ints([1, 0, 2, 3]) });
  const gc = ctx.node('Transpose', [g], { perm: ints([1, 0, 2, 3]) });
  const lhs = ctx.node('Reshape', [gc, ctx.int64s([o, l])]);
  const rhs = ctx.node('Reshape', [cols, ctx.int64s([c * k, l])]);
  const dw = ctx.node('Gemm', [lhs, rhs], { transB: int(1) });
  return ctx.node('Reshape', [dw, ctx.int64s(weightShape)]);
}

/**
 * Whether dW per image beats the channels-first product: its results (N, O, C*K) must be smaller
 * than the activations the channels-first form transposes (it wins on the wide early layers, such
 * as 1x1 on 112x112 with 16 -> 96 channels, and loses on 512 -> 2048 on 7x7), and each product
 * long enough (L = OH*OW) for the matrix kernel (see bench/NOTES.md, "Weight gradients per
 * image").
 */
function perImagePays(o: number, c: number, k: number, l: number): boolean {
  return o * c * k <= 1.5 * (o + c) * l && l >= 512;
}

/**
 * Dense dW as one product per image, summed over the batch: dY (N, O, L) times the im2col of X in
 * its own layout (N, C*K, L), transposed inside the matrix product, so neither X nor dY is
 * transposed (where `perImagePays`). Each product has the larger of dY and the im2col on the
 * left, which is faster than the other order (see bench/NOTES.md, "Operand order of per-image
 * weight gradients").
 */
function emitPerImageWeightGrad(ctx: EmitContext, x: string, g: string, a: WeightGradAttrs, xShape: readonly number[], gShape: readonly number[]): string {
  const { weightShape } = a;
  const [n, c] = xShape;
  const [, o, oh, ow] = gShape;
  const [, , kh, kw] = weightShape;
  const ck = c * kh * kw;
  const cols = ctx.node('Reshape', [readsWindows(a, xShape, gShape) ? emitUnfold(ctx, x, a, c, [kh, kw]) : x, ctx.int64s([n, ck, oh * ow])]);
  const dy = ctx.node('Reshape', [g, ctx.int64s([n, o, oh * ow])]);
  if (ck <= o) return sumOverBatch(ctx, ctx.runtimeNode('FusedMatMul', [dy, cols], { transB: int(1) }), weightShape);
  // The larger operand as the streamed left one, the smaller packed (ONNX Runtime packs the right
  // operand of each product): (N, C*K, O), summed, then the small (C*K, O) transposed. Viewed as
  // (C, KH, KW, O) before the transpose, the form ONNX Runtime's transpose optimizer would
  // otherwise rewrite it into, making the weight gradient a node of its own (runtime/backward.ts).
  const dwT = ctx.node('ReduceSum', [ctx.runtimeNode('FusedMatMul', [cols, dy], { transB: int(1) }), ctx.int64s([0])], { keepdims: int(0) });
  return ctx.node('Transpose', [ctx.node('Reshape', [dwT, ctx.int64s([c, kh, kw, o])])], { perm: ints([3, 0, 1, 2]) });
}

/**
 * Grouped dW as one product per (image, group), summed over the batch: the im2col of X in its own
 * layout, (N, G, I/G*K, L), times dY as (N, G, O/G, L) transposed inside the product, so neither
 * X's im2col nor dY is transposed; the channels-first form transposes both, the im2col being K
 * times X's size. The larger operand is on the left, as in `emitPerImageWeightGrad` (see
 * bench/NOTES.md, "Grouped convolutions as whole blocks").
 */
function emitGroupedWeightGrad(ctx: EmitContext, x: string, g: string, a: WeightGradAttrs, xShape: readonly number[], gShape: readonly number[]): string {
  const { groups, weightShape } = a;
  const [n, c] = xShape;
  const [, o, oh, ow] = gShape;
  const [, ig, kh, kw] = weightShape;
  const og = o / groups;
  const rows = ig * kh * kw;
  const cols = ctx.node('Reshape', [readsWindows(a, xShape, gShape) ? emitUnfold(ctx, x, a, c, [kh, kw]) : x, ctx.int64s([n, groups, rows, oh * ow])]);
  const dy = ctx.node('Reshape', [g, ctx.int64s([n, groups, og, oh * ow])]);
  if (rows <= og) return sumOverBatch(ctx, ctx.runtimeNode('FusedMatMul', [dy, cols], { transB: int(1) }), weightShape);
  const dwT = ctx.node('ReduceSum', [ctx.runtimeNode('FusedMatMul', [cols, dy], { transB: int(1) }), ctx.int64s([0])], { keepdims: int(0) });
  return ctx.node('Reshape', [ctx.node('Transpose', [dwT], { perm: ints([0, 2, 1]) }), ctx.int64s(weightShape)]);
}

/**
 * Depthwise dW[c, 0, i, j] = sum over n, p, q of dY[n, c, p, q] * X[n, c, p*stride + i*dilation - pad, ...]:
 * per (image, channel) plane, its im2col (K, L) times its dY (L, 1), one batched MatMul, then the
 * sum over the batch. Neither X nor dY is transposed. On the large planes of early layers it is
 * about twice as fast as a grouped Conv of X with dY as its kernel, one group per plane, and
 * about even on small ones (see bench/NOTES.md, "Depthwise weight gradients").
 */
function emitDepthwiseWeightGrad(ctx: EmitContext, x: string, g: string, a: WeightGradAttrs, xShape: readonly number[], gShape: readonly number[]): string {
  const { weightShape } = a;
  const [n, c] = xShape;
  const [, , oh, ow] = gShape;
  const [, , kh, kw] = weightShape;
  const k = kh * kw;
  const cols = ctx.node('Reshape', [emitUnfold(ctx, x, a, c, [kh, kw]), ctx.int64s([n * c, k, oh * ow])]);
  const perPlane = ctx.node('MatMul', [cols, ctx.node('Reshape', [g, ctx.int64s([n * c, oh * ow, 1])])]);
  const perImage = ctx.node('Reshape', [perPlane, ctx.int64s([n, c * k])]);
  return sumOverBatch(ctx, perImage, weightShape);
}

/**
 * Depthwise dW in the blocked layout, with the roles of a depthwise convolution swapped: the batch's
 * (image, channel) planes of X are the channels of one image, each plane's dY is its kernel
 * (dilated by the layer's stride), and the kH x kW taps are the output (strided by the layer's
 * dilation); then the sum over the batch. Nothing is unfolded, and ONNX Runtime's blocked depthwise
 * kernel keeps each plane in cache, which beats the im2col product (see bench/NOTES.md,
 * "Depthwise weight gradients"). Needs N*C to fill whole blocks.
 */
function emitDepthwiseWeightGradBlocked(
  ctx: EmitContext, x: string, g: string, { stride, padding, dilation, weightShape }: WeightGradAttrs,
  xShape: readonly number[], gShape: readonly number[],
): string {
  const [n, c, h, w] = xShape;
  const [, , oh, ow] = gShape;
  const [, , kh, kw] = weightShape;
  const planes = n * c;
  // End padding that makes the output exactly kH x kW; negative where the layer's windows never
  // reached X's last rows or columns, and then the extra outputs are sliced off.
  const endH = (kh - 1) * dilation[0] + (oh - 1) * stride[0] + 1 - h - padding[0];
  const endW = (kw - 1) * dilation[1] + (ow - 1) * stride[1] + 1 - w - padding[1];
  // Both reordered by ReorderInput: a depthwise kernel's blocked order, (C/B, kH, kW, B), is an
  // activation's (N, C/B, H, W, B) with N = 1 (for dY about twice as fast as a Transpose). When C
  // fills whole blocks, (N, C/B, ...) is (1, N*C/B, ...) in memory: X and dY are reordered as they
  // are, and share the reorders the layer's forward and input-gradient convolutions already have.
  const blocked = (t: string, [rows, cols]: number[]) => c % ctx.blockSize! === 0
    ? ctx.node('Reshape', [reorderInput(ctx, t), ctx.int64s([1, planes, rows, cols])])
    : ctx.blockedNode('ReorderInput', [ctx.node('Reshape', [t, ctx.int64s([1, planes, rows, cols])])]);
  const kernel = ctx.node('Reshape', [blocked(g, [oh, ow]), ctx.int64s([planes, 1, oh, ow])]);
  const conv = ctx.blockedNode('Conv', [blocked(x, [h, w]), kernel], {
    kernel_shape: ints([oh, ow]), strides: ints(dilation), dilations: ints(stride), group: int(planes),
    pads: ints([padding[0], padding[1], Math.max(0, endH), Math.max(0, endW)]),
  });
  const taps = ctx.blockedNode('ReorderOutput', [conv], { channels: int(planes) });
  const exact = endH < 0 || endW < 0
    ? ctx.node('Slice', [taps, ctx.int64s([0, 0]), ctx.int64s([kh, kw]), ctx.int64s([2, 3])])
    : taps;
  const perImage = ctx.node('Reshape', [exact, ctx.int64s([n, c * kh * kw])]);
  return sumOverBatch(ctx, perImage, weightShape);
}

/** Per-image weight gradients (N, ...) summed over the batch, in the weight's shape. */
function sumOverBatch(ctx: EmitContext, perImage: string, weightShape: readonly number[]): string {
  return ctx.node('Reshape', [ctx.node('ReduceSum', [perImage, ctx.int64s([0])], { keepdims: int(0) }), ctx.int64s(weightShape)]);
}

/**
 * im2col by convolution: a grouped Conv whose one-hot kernels copy each tap of each channel, with
 * the layer's stride, padding and dilation, so ONNX Runtime builds every window in one kernel:
 * (N, C, H, W) -> (N, C*K, OH, OW), rows c*K + k. About twice as fast as K strided slices and a
 * concat (see bench/NOTES.md, "im2col by convolution").
 */
function emitUnfold(ctx: EmitContext, x: string, { stride, padding, dilation }: ConvAttrs, c: number, [kh, kw]: number[]): string {
  const k = kh * kw;
  const oneHot = new Float32Array(c * k * k);
  for (let ch = 0; ch < c; ch++) for (let t = 0; t < k; t++) oneHot[(ch * k + t) * k + t] = 1;
  return ctx.node('Conv', [x, ctx.constant(oneHot, [c * k, 1, kh, kw])], {
    group: int(c), strides: ints(stride), dilations: ints(dilation), pads: ints([padding[0], padding[1], padding[0], padding[1]]),
  });
}

/** False for a pointwise convolution: 1x1, stride 1, same size out as in, so X itself is its im2col. */
function readsWindows({ stride, weightShape }: WeightGradAttrs, xShape: readonly number[], gShape: readonly number[]): boolean {
  return weightShape[2] > 1 || weightShape[3] > 1 || stride[0] > 1 || stride[1] > 1 || xShape[2] !== gShape[2] || xShape[3] !== gShape[3];
}
