import type { Module } from '../nn/module.ts';
import * as resnet from './resnet.ts';
import * as vgg from './vgg.ts';
import * as mnv2 from './mobilenetv2.ts';
import * as mnv3 from './mobilenetv3.ts';
import * as regnet from './regnet.ts';
import * as alexnet from './alexnet.ts';
import * as densenet from './densenet.ts';
import * as googlenet from './googlenet.ts';
import * as inception from './inception.ts';
import * as squeezenet from './squeezenet.ts';
import * as shufflenet from './shufflenetv2.ts';
import * as mnasnet from './mnasnet.ts';
import * as convnext from './convnext.ts';
import * as effnet from './efficientnet.ts';
import * as vit from './vit.ts';
import * as maxvit from './maxvit.ts';
import * as swin from './swin.ts';

/**
 * Builds an architecture with random weights. `imageSize` is for the architectures built for one
 * input size (ViT's position embeddings, MaxViT's partitions); the others take any and ignore it.
 */
export type Builder = (cfg: { numClasses?: number; imageSize?: number }) => Module;

/**
 * The architectures by name. Filled at import with torchvision's families; `registerModel` adds
 * more, once per name (a process-wide table of builders, like torchvision's, holding no job state).
 */
const builders = new Map<string, Builder>();

/** Adds an architecture to the zoo; a name can be registered once. */
export function registerModel(name: string, builder: Builder): void {
  if (builders.has(name)) throw new Error(`A model named "${name}" is already registered`);
  builders.set(name, builder);
}

// In the order torchvision documents them (module namespaces list their exports alphabetically).
const ZOO: [string, Builder][] = [
  ['resnet18', resnet.resnet18], ['resnet34', resnet.resnet34], ['resnet50', resnet.resnet50],
  ['resnet101', resnet.resnet101], ['resnet152', resnet.resnet152],
  ['resnext50_32x4d', resnet.resnext50_32x4d], ['resnext101_32x8d', resnet.resnext101_32x8d], ['resnext101_64x4d', resnet.resnext101_64x4d],
  ['wide_resnet50_2', resnet.wide_resnet50_2], ['wide_resnet101_2', resnet.wide_resnet101_2],
  ['vgg11', vgg.vgg11], ['vgg11_bn', vgg.vgg11_bn], ['vgg13', vgg.vgg13], ['vgg13_bn', vgg.vgg13_bn],
  ['vgg16', vgg.vgg16], ['vgg16_bn', vgg.vgg16_bn], ['vgg19', vgg.vgg19], ['vgg19_bn', vgg.vgg19_bn],
  ['mobilenet_v2', mnv2.mobilenet_v2], ['mobilenet_v3_small', mnv3.mobilenet_v3_small], ['mobilenet_v3_large', mnv3.mobilenet_v3_large],
  ['regnet_y_400mf', regnet.regnet_y_400mf], ['regnet_y_800mf', regnet.regnet_y_800mf], ['regnet_y_1_6gf', regnet.regnet_y_1_6gf], ['regnet_y_3_2gf', regnet.regnet_y_3_2gf],
  ['regnet_y_8gf', regnet.regnet_y_8gf], ['regnet_y_16gf', regnet.regnet_y_16gf], ['regnet_y_32gf', regnet.regnet_y_32gf], ['regnet_y_128gf', regnet.regnet_y_128gf],
  ['regnet_x_400mf', regnet.regnet_x_400mf], ['regnet_x_800mf', regnet.regnet_x_800mf], ['regnet_x_1_6gf', regnet.regnet_x_1_6gf], ['regnet_x_3_2gf', regnet.regnet_x_3_2gf],
  ['regnet_x_8gf', regnet.regnet_x_8gf], ['regnet_x_16gf', regnet.regnet_x_16gf], ['regnet_x_32gf', regnet.regnet_x_32gf],
  ['alexnet', alexnet.alexnet],
  ['densenet121', densenet.densenet121], ['densenet161', densenet.densenet161], ['densenet169', densenet.densenet169], ['densenet201', densenet.densenet201],
  ['googlenet', googlenet.googlenet], ['inception_v3', inception.inception_v3],
  ['squeezenet1_0', squeezenet.squeezenet1_0], ['squeezenet1_1', squeezenet.squeezenet1_1],
  ['shufflenet_v2_x0_5', shufflenet.shufflenet_v2_x0_5], ['shufflenet_v2_x1_0', shufflenet.shufflenet_v2_x1_0],
  ['shufflenet_v2_x1_5', shufflenet.shufflenet_v2_x1_5], ['shufflenet_v2_x2_0', shufflenet.shufflenet_v2_x2_0],
  ['mnasnet0_5', mnasnet.mnasnet0_5], ['mnasnet0_75', mnasnet.mnasnet0_75], ['mnasnet1_0', mnasnet.mnasnet1_0], ['mnasnet1_3', mnasnet.mnasnet1_3],
  ['convnext_tiny', convnext.convnext_tiny], ['convnext_small', convnext.convnext_small],
  ['convnext_base', convnext.convnext_base], ['convnext_large', convnext.convnext_large],
  ['efficientnet_b0', effnet.efficientnet_b0], ['efficientnet_b1', effnet.efficientnet_b1], ['efficientnet_b2', effnet.efficientnet_b2],
  ['efficientnet_b3', effnet.efficientnet_b3], ['efficientnet_b4', effnet.efficientnet_b4], ['efficientnet_b5', effnet.efficientnet_b5],
  ['efficientnet_b6', effnet.efficientnet_b6], ['efficientnet_b7', effnet.efficientnet_b7],
  ['efficientnet_v2_s', effnet.efficientnet_v2_s], ['efficientnet_v2_m', effnet.efficientnet_v2_m], ['efficientnet_v2_l', effnet.efficientnet_v2_l],
  ['vit_b_16', vit.vit_b_16], ['vit_b_32', vit.vit_b_32], ['vit_l_16', vit.vit_l_16], ['vit_l_32', vit.vit_l_32], ['vit_h_14', vit.vit_h_14],
  ['maxvit_t', maxvit.maxvit_t],
  ['swin_t', swin.swin_t], ['swin_s', swin.swin_s], ['swin_b', swin.swin_b],
  ['swin_v2_t', swin.swin_v2_t], ['swin_v2_s', swin.swin_v2_s], ['swin_v2_b', swin.swin_v2_b],
];
for (const [name, build] of ZOO) registerModel(name, build);

export function listModels(): string[] {
  return [...builders.keys()];
}

/** The builder registered as `name`, if any. */
export function zooBuilder(name: string): Builder | undefined {
  return builders.get(name);
}
