import type { Module } from '../nn/module.ts';
import * as resnet from './resnet.ts';
import * as vgg from './vgg.ts';
import * as mnv2 from './mobilenetv2.ts';
import * as mnv3 from './mobilenetv3.ts';
import * as convnext from './convnext.ts';
import * as effnet from './efficientnet.ts';

/** Builds an architecture with random weights. */
export type Builder = (cfg: { numClasses?: number }) => Module;

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
  ['resnext50_32x4d', resnet.resnext50_32x4d], ['wide_resnet50_2', resnet.wide_resnet50_2],
  ['vgg11', vgg.vgg11], ['vgg11_bn', vgg.vgg11_bn], ['vgg13', vgg.vgg13], ['vgg13_bn', vgg.vgg13_bn],
  ['vgg16', vgg.vgg16], ['vgg16_bn', vgg.vgg16_bn], ['vgg19', vgg.vgg19], ['vgg19_bn', vgg.vgg19_bn],
  ['mobilenet_v2', mnv2.mobilenet_v2], ['mobilenet_v3_small', mnv3.mobilenet_v3_small], ['mobilenet_v3_large', mnv3.mobilenet_v3_large],
  ['convnext_tiny', convnext.convnext_tiny], ['convnext_small', convnext.convnext_small],
  ['convnext_base', convnext.convnext_base], ['convnext_large', convnext.convnext_large],
  ['efficientnet_b0', effnet.efficientnet_b0], ['efficientnet_b1', effnet.efficientnet_b1], ['efficientnet_b2', effnet.efficientnet_b2],
  ['efficientnet_b3', effnet.efficientnet_b3], ['efficientnet_b4', effnet.efficientnet_b4], ['efficientnet_b5', effnet.efficientnet_b5],
  ['efficientnet_b6', effnet.efficientnet_b6], ['efficientnet_b7', effnet.efficientnet_b7],
  ['efficientnet_v2_s', effnet.efficientnet_v2_s], ['efficientnet_v2_m', effnet.efficientnet_v2_m], ['efficientnet_v2_l', effnet.efficientnet_v2_l],
];
for (const [name, build] of ZOO) registerModel(name, build);

export function listModels(): string[] {
  return [...builders.keys()];
}

/** The builder registered as `name`, if any. */
export function zooBuilder(name: string): Builder | undefined {
  return builders.get(name);
}
