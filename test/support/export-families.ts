/**
 * One trained-model folder per convolutional family for the export tests and
 * scripts/make_family_exports.ts: each family's smallest builder with a new 3-class head,
 * deterministic weights, and preprocessing that crops to the smallest input the architecture
 * takes (so the export's traced graph and its checks stay small).
 */
import path from 'node:path';
import { createClassifier } from '../../src/models/classifier.ts';
import { saveModelFolder } from '../../src/artifacts/model-folder.ts';
import type { Preprocessing } from '../../src/models/catalog.ts';
import { deterministicStateDict } from './deterministic.ts';

export const FAMILY_CLASSES = ['ant', 'bee', 'wasp'];

/**
 * arch -> input side. ResNeXt-101 and Wide ResNet-101 are ResNet's bottleneck with other widths
 * and groups: the ResNet export tests cover them. AlexNet, GoogLeNet and SqueezeNet run their
 * stride chains down to at least 1x1 at 64; Inception v3 needs 75.
 */
export const EXPORT_FAMILIES: Record<string, number> = {
  alexnet: 64,
  convnext_tiny: 32,
  densenet121: 32,
  efficientnet_b0: 32,
  efficientnet_v2_s: 32,
  googlenet: 64,
  inception_v3: 75,
  mnasnet0_5: 32,
  regnet_y_400mf: 32,
  shufflenet_v2_x0_5: 32,
  squeezenet1_1: 64,
};

export function familyPreprocessing(side: number): Preprocessing {
  return { resizeSize: side, cropSize: side, interpolation: 'bilinear', mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };
}

/** Writes `<dir>/<arch>` as `graft train` would (weights, labels, graft.json) and returns its path. */
export async function familyModelFolder(dir: string, arch: string): Promise<string> {
  const model = await createClassifier(arch, { weights: null, numClasses: FAMILY_CLASSES.length });
  model.loadStateDict(deterministicStateDict([...model.stateDict()].map(([k, v]) => [k, v.shape] as const)));
  const folder = path.join(dir, arch);
  await saveModelFolder(folder, model, {
    model: arch, pretrained: null, classes: FAMILY_CLASSES, preprocessing: familyPreprocessing(EXPORT_FAMILIES[arch]), training: {}, metrics: {}, history: [],
  });
  return folder;
}
