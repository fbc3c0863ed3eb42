import { int, ints, type EmitContext } from '../emit.ts';
import type { Tensor } from '../tensor.ts';
import { isBaked } from '../trace.ts';

/** A Conv node's attributes as ONNX spells them (pads: begin H, begin W, end H, end W). */
export interface ConvNodeAttrs { strides: readonly number[]; pads: readonly number[]; dilations: readonly number[]; group: number }

/**
 * Emits one convolution, in ONNX Runtime's blocked channel layout (NCHWc: channels in blocks of 8
 * or 16, innermost) where that applies, else as a standard Conv. The blocked kernels are ONNX
 * Runtime's fastest on CPU, but it rewrites a Conv into them only when the weight is a constant;
 * a training graph feeds its weights, so graft emits the blocked form itself: the weight reordered
 * inside the graph (ReorderInput nodes; transposes for an input-gradient kernel), the input
 * reordered in, the output reordered out. That beats the standard Conv even with all three
 * reorders (see bench/NOTES.md, "Blocked convolutions with fed weights").
 *
 * `weight` is the weight tensor (constant weights stay standard: ONNX Runtime blocks those itself,
 * fusing what follows); `xChannels` the input's channels, `wShape` the weight's (O, I/groups, kH, kW).
 * With `kernel` 'input-grad', `w` is a forward weight and the convolution uses its input-gradient
 * kernel (`wShape` that kernel's shape).
 */
export function emitConv(
  ctx: EmitContext, x: string, w: string, bias: string | null, attrs: ConvNodeAttrs,
  xChannels: number, wShape: readonly number[], weight: Tensor, kernel: 'weight' | 'input-grad' = 'weight',
): string {
  const onnxAttrs = { strides: ints(attrs.strides), pads: ints(attrs.pads), dilations: ints(attrs.dilations), group: int(attrs.group) };
  const layout = ctx.blockSize ? blockedForm(ctx.blockSize, attrs, xChannels, wShape) : null;
  const plainKernel = () => (kernel === 'weight' ? w : inputGradKernel(ctx, w, wShape, attrs.group));
  if (!layout || (layout !== 'grouped' && weight.op === null && isBaked(weight))) {
    const k = plainKernel();
    return ctx.node('Conv', bias ? [x, k, bias] : [x, k], onnxAttrs);
  }
  const b = ctx.blockSize!;
  const [o, i, kh, kw] = wShape;
  if (layout === 'grouped') return emitGroupedBlocked(ctx, x, plainKernel(), bias, attrs, wShape, b, weight.op === null && isBaked(weight));
  let blocked: string;
  if (layout === 'blocked-input') {
    blocked = kernel === 'input-grad' ? blockInputGradKernel(ctx, w, wShape, b) : blockDense(ctx, w, wShape, b);
  } else {
    // Input narrower than a block (read as it is), or depthwise: (O/B, Bo, I*K) -> (O/B, I*K, Bo).
    blocked = blockInnermost(ctx, plainKernel(), o, i * kh * kw, b);
  }
  // The tensor keeps its OIHW shape; only the order in memory changes.
  const blockedW = ctx.node('Reshape', [blocked, ctx.int64s([...wShape])]);
  const input = layout === 'plain-input' ? x : reorderInput(ctx, x);
  const y = ctx.blockedNode('Conv', bias ? [input, blockedW, bias] : [input, blockedW], { ...onnxAttrs, kernel_shape: ints([kh, kw]) });
  return ctx.blockedNode('ReorderOutput', [y], { channels: int(o) });
}

/** An NCHW activation in the blocked layout, reordered once however many convolutions read it. */
export function reorderInput(ctx: EmitContext, x: string): string {
  return ctx.once(`ReorderInput(${x})`, () => [ctx.blockedNode('ReorderInput', [x])])[0];
}

/**
 * A dense weight in the blocked order, (O, I, K) -> (O/B, I/B, K, Bi, Bo), as two ReorderInput
 * nodes, ONNX Runtime's channel-blocking kernel: the weight read as an activation (N = O, C = I)
 * gets Bi innermost, then (O/B, Bo, I/B*K*Bi) read as N = O/B, C = Bo gets Bo innermost.
 */
function blockDense(ctx: EmitContext, w: string, [o, i, kh, kw]: readonly number[], b: number): string {
  return blockInnermost(ctx, ctx.blockedNode('ReorderInput', [w]), o, i * kh * kw, b);
}

/**
 * The kernel of a convolution's input gradient: in and out channels swapped within each group,
 * flipped in space (reversing the flattened kH*kW taps flips both axes). `wShape` is that kernel's
 * shape (groups*I, O/groups, kH, kW); `w` is the forward weight (O, I, kH, kW).
 */
function inputGradKernel(ctx: EmitContext, w: string, [gi, og, kh, kw]: readonly number[], groups: number): string {
  const ig = gi / groups;
  const k = kh * kw;
  // Depthwise (one in, one out per group): nothing to swap.
  const swapped = og === 1 && ig === 1 ? w : ctx.node('Transpose', [ctx.node('Reshape', [w, ctx.int64s([groups, og, ig, k])])], { perm: ints([0, 2, 1, 3]) });
  const flipped = k > 1 ? flipTaps(ctx, ctx.node('Reshape', [swapped, ctx.int64s([gi, og, k])]), k, 2) : swapped;
  return ctx.node('Reshape', [flipped, ctx.int64s([gi, og, kh, kw])]);
}

/**
 * The same kernel directly in the blocked order, without building it first: the forward weight
 * (O/B, Bo, I/B, Bi, K) to (I/B, O/B, K, Bo, Bi), flipped. Each transpose moves one axis, which ONNX
 * Runtime does with whole runs; one 5-D transpose doing both at once is slow (see bench/NOTES.md,
 * "Input-gradient kernel in blocked order").
 */
function blockInputGradKernel(ctx: EmitContext, w: string, [i, o, kh, kw]: readonly number[], b: number): string {
  const k = kh * kw;
  const inBlocksFirst = ctx.node('Transpose', [ctx.node('Reshape', [w, ctx.int64s([o, i / b, b * k])])], { perm: ints([1, 0, 2]) });
  const tapsOut = ctx.node('Transpose', [ctx.node('Reshape', [inBlocksFirst, ctx.int64s([(i / b) * (o / b), b * b, k])])], { perm: ints([0, 2, 1]) });
  return k > 1 ? flipTaps(ctx, tapsOut, k, 1) : tapsOut;
}

/**
 * (R, rest) with R in whole blocks -> (R/B, rest, B): ReorderInput reading R's blocks as channels,
 * faster than a Transpose of (R/B, B, rest) (see bench/NOTES.md, "Blocking a weight's rows").
 */
function blockInnermost(ctx: EmitContext, t: string, rows: number, rest: number, b: number): string {
  return ctx.blockedNode('ReorderInput', [ctx.node('Reshape', [t, ctx.int64s([rows / b, b, rest, 1])])]);
}

/** Reverses the K taps on `axis`. */
function flipTaps(ctx: EmitContext, t: string, k: number, axis: number): string {
  return ctx.node('Slice', [t, ctx.int64s([-1]), ctx.int64s([-k - 1]), ctx.int64s([axis]), ctx.int64s([-1])]);
}

/**
 * Which blocked kernel fits, if any: dense convolutions whose output channels fill whole blocks,
 * with the input in blocks too or narrower than one block (read as it is); depthwise ones whose
 * channels fill whole blocks; grouped ones with as many outputs as inputs per group, a block or half
 * a block of each (see `emitGroupedBlocked`). Pointwise stride-1 convolutions stay standard: ONNX
 * Runtime runs them as one GEMM without an im2col already, and the reorders cost more than they save.
 */
function blockedForm(b: number, attrs: ConvNodeAttrs, c: number, [o, i, kh, kw]: readonly number[]): 'blocked-input' | 'plain-input' | 'depthwise' | 'grouped' | null {
  if (kh === 1 && kw === 1 && attrs.strides.every((s) => s === 1)) return null;
  if (attrs.group > 1 && !(attrs.group === c && attrs.group === o && i === 1)) {
    return o / attrs.group === i && (i === b || 2 * i === b) ? 'grouped' : null;
  }
  if (o % b !== 0) return null;
  if (attrs.group === 1) {
    if (c % b === 0) return 'blocked-input';
    return c < b ? 'plain-input' : null;
  }
  return c % b === 0 ? 'depthwise' : null;
}

/**
 * A grouped convolution of G groups of `g` channels in and out, where `g` is a block or half a
 * block: as ceil(G/m) groups of one block each (m = B/g), each merged group's kernel holding its m
 * groups' kernels on the diagonal and zeros elsewhere, so that ONNX Runtime's blocked grouped kernel
 * runs it (its generic grouped Conv does one small im2col and GEMM per group). With m = 2 that is
 * twice the multiply-adds, the zero half included (see bench/NOTES.md, "Grouped convolutions as
 * whole blocks"). When G is not a multiple of m, the last merged group's missing outputs have zero
 * kernels and the missing inputs are the zero channels the blocked layout pads with.
 *
 * A baked weight whose groups fill whole blocks stays a standard Conv of the merged weight: ONNX
 * Runtime folds the merging into a constant, then blocks the Conv itself, fusing what follows.
 */
function emitGroupedBlocked(
  ctx: EmitContext, x: string, w: string, bias: string | null, attrs: ConvNodeAttrs,
  [o, g, kh, kw]: readonly number[], b: number, baked: boolean,
): string {
  const groups = attrs.group;
  const m = b / g;
  const merged = Math.ceil(groups / m);
  const mergedShape = [merged * b, b, kh, kw];
  const extra = merged * b - o;
  const padded = extra > 0 ? ctx.node('Pad', [w, ctx.int64s([0, 0, 0, 0, extra, 0, 0, 0])]) : w;
  const mask = new Float32Array(m * m);
  for (let j = 0; j < m; j++) mask[j * m + j] = 1;
  const diagonal = m === 1 ? padded : ctx.node('Mul', [ctx.node('Reshape', [padded, ctx.int64s([merged, m, g, 1, g * kh * kw])]), ctx.constant(mask, [m, 1, m, 1])]);
  const kernel = ctx.node('Reshape', [diagonal, ctx.int64s(mergedShape)]);
  const b0 = bias && extra > 0 ? ctx.node('Pad', [bias, ctx.int64s([0, extra])]) : bias;
  const onnxAttrs = { strides: ints(attrs.strides), pads: ints(attrs.pads), dilations: ints(attrs.dilations), group: int(merged) };
  if (baked && extra === 0) return ctx.node('Conv', b0 ? [x, kernel, b0] : [x, kernel], onnxAttrs);
  const blockedW = ctx.node('Reshape', [blockDense(ctx, kernel, mergedShape, b), ctx.int64s(mergedShape)]);
  const y = ctx.blockedNode('Conv', b0 ? [reorderInput(ctx, x), blockedW, b0] : [reorderInput(ctx, x), blockedW], { ...onnxAttrs, kernel_shape: ints([kh, kw]) });
  return ctx.blockedNode('ReorderOutput', [y], { channels: int(o) });
}
