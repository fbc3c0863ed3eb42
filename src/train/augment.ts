import type { Preprocessing } from '../models/catalog.ts';
import { Compose } from '../data/transforms/compose.ts';
import { RandomResizedCrop } from '../data/transforms/random-resized-crop.ts';
import { RandomHorizontalFlip } from '../data/transforms/flip.ts';
import { TrivialAugmentWide } from '../data/transforms/trivial-augment.ts';
import { Normalize, ToTensor } from '../data/transforms/tensor.ts';
import { evalPreset } from '../data/transforms/presets.ts';
import type { Transform } from '../data/transforms/transform.ts';

export type AugmentLevel = 'none' | 'light' | 'standard';

/**
 * The training transform for an augmentation level, sized and normalized as the weights expect:
 * none is the eval transform; light is PyTorch's tutorial recipe (RandomResizedCrop + flip);
 * standard adds TrivialAugmentWide, as torchvision's current ImageNet recipes do.
 */
export function trainTransform(level: AugmentLevel, p: Preprocessing): Transform {
  if (level === 'none') return evalPreset(p);
  const crop = new RandomResizedCrop(p.cropSize, { interpolation: p.interpolation });
  const tail = [new ToTensor(), new Normalize(p.mean, p.std)];
  if (level === 'light') return new Compose([crop, new RandomHorizontalFlip(), ...tail]);
  return new Compose([crop, new RandomHorizontalFlip(), new TrivialAugmentWide(), ...tail]);
}
