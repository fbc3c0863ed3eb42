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
 * by a Reshape and a Transpose in the graph, the input reordered in, the output reordered out.
 * Batch 16, one conv with a fed weight, standard vs blocked with all three reorders: 3x3 64 ch at
 * 56x56 33.1 vs 27.5 ms; 256 ch at 14x14 25.0 vs 21.2; 3x3 stride 2 64->128 19.2 vs 11.9; the
 * 7x7 stride-2 stem 72.2 vs 55.7.
 *
 * `weight` is the weight tensor (constant weights stay standard: ONNX Runtime blocks those itself,
 * fusing what follows); `xChannels` the input's channels, `wShape` the weight's (O, I/groups, kH, kW).
 */
export function emitConv(
  ctx: EmitContext, x: string, w: string, bias: string | null, attrs: ConvNodeAttrs,
  xChannels: number, wShape: readonly number[], weight: Tensor,
): string {
  const onnxAttrs = { strides: ints(attrs.strides), pads: ints(attrs.pads), dilations: ints(attrs.dilations), group: int(attrs.group) };
  const layout = ctx.blockSize ? blockedForm(ctx.blockSize, attrs, xChannels, wShape) : null;
  if (!layout || (weight.op === null && isBaked(weight))) return ctx.node('Conv', bias ? [x, w, bias] : [x, w], onnxAttrs);
  const b = ctx.blockSize!;
  const [o, i, kh, kw] = wShape;
  // Dense: (O/B, Bo, I/B, Bi, kH, kW) -> (O/B, I/B, kH, kW, Bi, Bo). Input narrower than a block
  // (the stem) or depthwise: (O/B, Bo, I, kH, kW) -> (O/B, I, kH, kW, Bo), the input left as it is
  // for the stem. The tensor keeps its OIHW shape; only the order in memory changes.
  const reordered = layout === 'blocked-input'
    ? ctx.node('Transpose', [ctx.node('Reshape', [w, ctx.int64s([o / b, b, i / b, b, kh, kw])])], { perm: ints([0, 2, 4, 5, 3, 1]) })
    : ctx.node('Transpose', [ctx.node('Reshape', [w, ctx.int64s([o / b, b, i, kh, kw])])], { perm: ints([0, 2, 3, 4, 1]) });
  const blockedW = ctx.node('Reshape', [reordered, ctx.int64s([...wShape])]);
  const input = layout === 'plain-input' ? x : ctx.blockedNode('ReorderInput', [x]);
  const y = ctx.blockedNode('Conv', bias ? [input, blockedW, bias] : [input, blockedW], { ...onnxAttrs, kernel_shape: ints([kh, kw]) });
  return ctx.blockedNode('ReorderOutput', [y], { channels: int(o) });
}

/**
 * Which blocked kernel fits, if any: dense convolutions whose output channels fill whole blocks,
 * with the input in blocks too or narrower than one block (read as it is); depthwise ones whose
 * channels fill whole blocks. Pointwise stride-1 convolutions stay standard: ONNX Runtime runs
 * them as one GEMM without an im2col already, and the reorders cost more than they save.
 */
function blockedForm(b: number, attrs: ConvNodeAttrs, c: number, [o, i, kh, kw]: readonly number[]): 'blocked-input' | 'plain-input' | 'depthwise' | null {
  if (kh === 1 && kw === 1 && attrs.strides.every((s) => s === 1)) return null;
  if (o % b !== 0) return null;
  if (attrs.group === 1) {
    if (c % b === 0) return 'blocked-input';
    return c < b ? 'plain-input' : null;
  }
  return attrs.group === c && attrs.group === o && i === 1 && c % b === 0 ? 'depthwise' : null;
}
