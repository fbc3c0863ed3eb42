import { int, ints, type GraphBuilder } from '../graph/emit.ts';
import { DataType } from '../graph/onnx-schema.ts';
import { checkChoice, checkInteger, invalidParameter } from '../errors/index.ts';
import type { Preprocessing } from '../models/catalog.ts';
import { rgbImage } from '../data/image.ts';
import { toNormalizedTensor } from '../data/transforms/tensor.ts';

/**
 * graft's eval transform (Resize of the shorter side, CenterCrop, ToTensor, Normalize) as ONNX
 * nodes, so an exported model takes decoded pixels: uint8 [N, H, W, 3] RGB of any size, the
 * layout a browser canvas gives.
 *
 * The resize reproduces PIL's ImagingResample exactly, as graft's own Resize does: per axis a
 * matrix of PIL's filter weights (support widened by the downscale factor: the antialiasing),
 * computed in double from the runtime image size and rounded to PIL's 22-bit fixed point; a
 * horizontal pass rounded to uint8 as PIL rounds it, then a vertical pass. The matrices hold only
 * the rows and columns the center crop keeps. Sums of 8-bit pixels times 22-bit weights are
 * integers below 2^31, exact in double, so every rounding decision is PIL's. Normalization is a
 * lookup table built by graft's own ToTensor and Normalize, so the output equals graft's eval
 * transform value for value.
 *
 * Why not ONNX Resize with antialias (operator set 18): its weights are float, it has no
 * intermediate uint8 rounding and no fixed point, so it approximates PIL rather than matching
 * it; and it would move the whole exported graph to operator set 18. Dense matrices cost
 * 3·H·W·crop multiply-adds for the horizontal pass (about 0.2 GFLOP for a 640x480 frame).
 */

const PRECISION_BITS = 22;

/** Refuses settings the graph cannot express, before anything is built. */
export function checkExportablePreprocessing(p: Preprocessing): void {
  checkInteger('resizeSize', p.resizeSize, { min: 1 });
  checkInteger('cropSize', p.cropSize, { min: 1 });
  if (p.cropSize > p.resizeSize) {
    // A crop larger than the resized image pads it, which the exported preprocessing does not do.
    throw invalidParameter('cropSize', `integer <= resizeSize (${p.resizeSize}; the exported preprocessing does not pad)`, p.cropSize);
  }
  checkChoice('interpolation', p.interpolation, ['bilinear', 'bicubic']);
}

/** Appends the preprocessing nodes reading `pixels`; returns the name of the float32 [N, 3, crop, crop] result. */
export function emitPreprocessing(b: GraphBuilder, pixels: string, p: Preprocessing): string {
  checkExportablePreprocessing(p);
  const crop = p.cropSize;
  const toDouble = (v: string) => b.node('Cast', [v], { to: int(DataType.DOUBLE) });
  const dconst = (v: number) => toDouble(b.constant([v], []));

  // torchvision's resized size: the shorter side becomes resizeSize, the longer one
  // trunc(resizeSize * long / short), in exact integer arithmetic.
  const shape = b.node('Shape', [pixels]);
  const height = b.node('Slice', [shape, b.int64s([1]), b.int64s([2])]);
  const width = b.node('Slice', [shape, b.int64s([2]), b.int64s([3])]);
  const resize = b.int64s([p.resizeSize]);
  const short = b.node('Min', [height, width]);
  const long = b.node('Max', [height, width]);
  const newLong = b.node('Div', [b.node('Mul', [long, resize]), short]);
  const widthIsShort = b.node('LessOrEqual', [width, height]);
  const newHeight = b.node('Where', [widthIsShort, newLong, resize]);
  const newWidth = b.node('Where', [widthIsShort, resize, newLong]);

  const axis = (inSize: string, outSize: string) => weights(b, p.interpolation, toDouble(inSize), toDouble(outSize), cropOffset(b, outSize, crop), crop, dconst);
  // [crop, W] and [crop, H], as integers (weights times 2^22).
  const horizontal = axis(width, newWidth);
  const vertical = axis(height, newHeight);

  const planes = b.node('Transpose', [toDouble(pixels)], { perm: ints([0, 3, 1, 2]) });
  const roundToByte = (acc: string) => {
    const shifted = b.node('Floor', [b.node('Div', [b.node('Add', [acc, dconst(2 ** (PRECISION_BITS - 1))]), dconst(2 ** PRECISION_BITS)])]);
    return b.node('Min', [b.node('Max', [shifted, dconst(0)]), dconst(255)]);
  };
  const rows = roundToByte(b.node('MatMul', [planes, b.node('Transpose', [horizontal], { perm: ints([1, 0]) })]));
  const image = roundToByte(b.node('MatMul', [vertical, rows]));

  // Each channel's 256 possible bytes, normalized by graft's own ToTensor and Normalize.
  const index = b.node('Add', [b.node('Cast', [image], { to: int(DataType.INT64) }), b.constant([0, 256, 512], [1, 3, 1, 1], 'int64')]);
  return b.node('Gather', [b.constant(normalizationTable(p), [768]), index], { axis: int(0) });
}

/** torchvision's center_crop offset: Python's round of half the excess, halves to even as ONNX Round does. */
function cropOffset(b: GraphBuilder, size: string, crop: number): string {
  const excess = b.node('Cast', [b.node('Sub', [size, b.int64s([crop])])], { to: int(DataType.FLOAT) });
  return b.node('Cast', [b.node('Round', [b.node('Div', [excess, b.constant([2], [])])])], { to: int(DataType.INT64) });
}

/**
 * PIL's coefficients for output pixels offset..offset+count of an axis resized from inSize to
 * outSize, as a dense [count, inSize] double matrix of 22-bit fixed-point integers. Every source
 * pixel outside a row's window gets weight 0 from the filter itself, so the dense form equals
 * PIL's windowed one.
 */
function weights(
  b: GraphBuilder, interpolation: 'bilinear' | 'bicubic', inSize: string, outSize: string, offset: string, count: number,
  dconst: (v: number) => string,
): string {
  const scale = b.node('Div', [inSize, outSize]);
  const filterScale = b.node('Max', [scale, dconst(1)]);
  const source = b.node('Unsqueeze', [b.node('Range', [dconst(0), b.node('Squeeze', [inSize]), dconst(1)]), b.int64s([0])]);
  const output = b.node('Add', [b.node('Range', [dconst(0), dconst(count), dconst(1)]), b.node('Cast', [offset], { to: int(DataType.DOUBLE) })]);
  const center = b.node('Unsqueeze', [b.node('Mul', [b.node('Add', [output, dconst(0.5)]), scale]), b.int64s([1])]);
  // (x - center + 0.5) / filterScale, in PIL's order of operations.
  const distance = b.node('Abs', [b.node('Div', [b.node('Add', [b.node('Sub', [source, center]), dconst(0.5)]), filterScale])]);
  const raw = interpolation === 'bilinear' ? b.node('Max', [b.node('Sub', [dconst(1), distance]), dconst(0)]) : bicubic(b, distance, dconst);
  const normalized = b.node('Div', [raw, b.node('ReduceSum', [raw, b.int64s([1])], { keepdims: int(1) })]);
  // C's (int)(0.5 + w * 2^22), or (int)(-0.5 + w * 2^22) for negative weights: half away from zero.
  const scaled = b.node('Mul', [normalized, dconst(2 ** PRECISION_BITS)]);
  const magnitude = b.node('Floor', [b.node('Add', [b.node('Abs', [scaled]), dconst(0.5)])]);
  return b.node('Where', [b.node('Less', [scaled, dconst(0)]), b.node('Neg', [magnitude]), magnitude]);
}

/** PIL's bicubic filter (a = -0.5) of |x|, written in the order PIL evaluates it. */
function bicubic(b: GraphBuilder, x: string, dconst: (v: number) => string): string {
  const a = -0.5;
  const mul = (u: string, v: string) => b.node('Mul', [u, v]);
  const near = b.node('Add', [mul(mul(b.node('Sub', [mul(dconst(a + 2), x), dconst(a + 3)]), x), x), dconst(1)]);
  const cubic = b.node('Sub', [mul(b.node('Add', [mul(b.node('Sub', [x, dconst(5)]), x), dconst(8)]), x), dconst(4)]);
  const far = mul(cubic, dconst(a));
  return b.node('Where', [b.node('Less', [x, dconst(1)]), near, b.node('Where', [b.node('Less', [x, dconst(2)]), far, dconst(0)])]);
}

/** The float graft's eval transform (its fused ToTensor + Normalize) gives each byte of each channel: [3 * 256]. */
function normalizationTable(p: Preprocessing): Float32Array {
  const bytes = rgbImage(256, 1);
  for (let v = 0; v < 256; v++) bytes.data.fill(v, v * 3, v * 3 + 3);
  return toNormalizedTensor(bytes, p.mean, p.std).data;
}
