import { CenterCrop } from './crop.ts';
import { Compose } from './compose.ts';
import type { Interpolation } from './resample.ts';
import { Resize } from './resize.ts';
import { Normalize, ToTensor } from './tensor.ts';

export const IMAGENET_MEAN = [0.485, 0.456, 0.406] as const;
export const IMAGENET_STD = [0.229, 0.224, 0.225] as const;

/** torchvision's classic ImageNet eval transform (IMAGENET1K_V1): resize 256, center crop 224. */
export const IMAGENET_EVAL: {
  resizeSize: number; cropSize: number; interpolation: 'bilinear'; mean: [number, number, number]; std: [number, number, number];
} = Object.freeze({ resizeSize: 256, cropSize: 224, interpolation: 'bilinear', mean: [...IMAGENET_MEAN] as [number, number, number], std: [...IMAGENET_STD] as [number, number, number] });

export interface EvalPresetOptions {
  resizeSize?: number;
  cropSize?: number;
  interpolation?: Interpolation;
  mean?: readonly number[];
  std?: readonly number[];
}

/**
 * torchvision's ImageClassification preset, the eval transform each weight variant declares:
 * Resize(resizeSize) then CenterCrop(cropSize), ToTensor, Normalize.
 */
export function evalPreset(options: EvalPresetOptions = {}): Compose {
  const { resizeSize, cropSize, interpolation, mean, std } = { ...IMAGENET_EVAL, ...options };
  return new Compose([
    new Resize(resizeSize, { interpolation }),
    new CenterCrop(cropSize),
    new ToTensor(),
    new Normalize(mean, std),
  ]);
}
