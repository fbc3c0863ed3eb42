import { makeDivisible } from './mobilenet-common.ts';

/**
 * RegNet's design space (Radosavovic et al., "Designing Network Design Spaces"): a network is
 * described by six numbers, from which torchvision's BlockParams.from_init_params derives every
 * stage's depth, width and group width. This file computes them the same way, float32 arithmetic
 * included, so each builder is its six numbers and not a hand-copied table of stages.
 */
export interface RegNetInitParams {
  /** Blocks in the whole network. */
  depth: number;
  /** Width of the first block (a multiple of 8). */
  w0: number;
  /** Slope of the linear width ramp. */
  wa: number;
  /** Step between stage widths in log space (> 1). */
  wm: number;
  /** Channels per group of each block's 3x3 convolution. */
  groupWidth: number;
  bottleneckMultiplier?: number;
  /** Squeeze-excitation width relative to a block's input (RegNetY), or none (RegNetX). */
  seRatio?: number;
}

/** One stage: `depth` blocks of `width` output channels, the first with stride `stride`. */
export interface StageParams { depth: number; width: number; groupWidth: number; bottleneckMultiplier: number; stride: number }

export interface BlockParams { stages: StageParams[]; seRatio: number | null }

const QUANT = 8;
const STRIDE = 2;
const f32 = Math.fround;

/** torch.round: halves go to the even neighbour. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * The per-block widths of from_init_params: a linear ramp w0 + i * wa, snapped to the nearest
 * power of wm times w0 and quantized to multiples of 8. torchvision computes it on float32
 * tensors, so every step is rounded to float32 here too (a width on a rounding boundary would
 * otherwise land on the other side).
 */
export function blockWidths({ depth, w0, wa, wm }: RegNetInitParams): number[] {
  if (wa < 0 || w0 <= 0 || wm <= 1 || w0 % 8 !== 0) {
    throw new RangeError(`Invalid RegNet settings: w0 ${w0} (a positive multiple of 8), wa ${wa} (>= 0), wm ${wm} (> 1)`);
  }
  const logWm = f32(Math.log(wm));
  return Array.from({ length: depth }, (_, i) => {
    const cont = f32(f32(i * f32(wa)) + w0);
    const capacity = roundHalfEven(f32(f32(Math.log(f32(cont / w0))) / logWm));
    const width = f32(w0 * f32(Math.pow(f32(wm), capacity)));
    return roundHalfEven(f32(width / QUANT)) * QUANT;
  });
}

/** from_init_params: runs of equal block widths become stages, then widths are made divisible by their group widths. */
export function blockParams(p: RegNetInitParams): BlockParams {
  const multiplier = p.bottleneckMultiplier ?? 1;
  const runs: { width: number; depth: number }[] = [];
  for (const w of blockWidths(p)) {
    const last = runs[runs.length - 1];
    if (last && last.width === w) last.depth++;
    else runs.push({ width: w, depth: 1 });
  }
  // _adjust_widths_groups_compatibilty: the bottleneck width a multiple of the group width.
  const stages = runs.map(({ width, depth }): StageParams => {
    const bottleneck = Math.trunc(width * multiplier);
    const groupWidth = Math.min(p.groupWidth, bottleneck);
    const adjusted = makeDivisible(bottleneck, groupWidth);
    return { depth, width: Math.trunc(adjusted / multiplier), groupWidth, bottleneckMultiplier: multiplier, stride: STRIDE };
  });
  return { stages, seRatio: p.seRatio ?? null };
}
