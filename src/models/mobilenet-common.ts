import { Module, Conv2d, BatchNorm2d, Sequential } from '../nn/index.ts';

/** torchvision's _make_divisible: channel counts rounded to a multiple of 8, never down by more than 10%. */
export function makeDivisible(v: number, divisor = 8, minValue?: number): number {
  const min = minValue ?? divisor;
  let out = Math.max(min, Math.floor((v + divisor / 2) / divisor) * divisor);
  if (out < 0.9 * v) out += divisor;
  return out;
}

/** Conv2dNormActivation: conv (no bias), batch norm, then an activation; keys 0, 1 (and 2). */
export function convNormActivation(
  inp: number, out: number, kernel: number,
  { stride = 1, groups = 1, activation, eps = 1e-5, momentum = 0.1 }: { stride?: number; groups?: number; activation: (() => Module) | null; eps?: number; momentum?: number },
): Sequential {
  const layers: Module[] = [
    new Conv2d(inp, out, kernel, { stride, padding: Math.floor((kernel - 1) / 2), groups, bias: false }),
    new BatchNorm2d(out, { eps, momentum }),
  ];
  if (activation) layers.push(activation());
  return new Sequential(...layers);
}
