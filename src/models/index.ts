import { createModel, type ModelOptions } from './registry.ts';
import type { ResNet } from './resnet.ts';
import type { VGG } from './vgg.ts';
import type { MobileNetV2 } from './mobilenetv2.ts';
import type { MobileNetV3 } from './mobilenetv3.ts';
import type { ConvNeXt } from './convnext.ts';
import type { EfficientNet } from './efficientnet.ts';

/**
 * The zoo, as torchvision.models: `await models.resnet50({ weights: 'IMAGENET1K_V2' })`.
 * Builders are async because pretrained weights may have to be read or downloaded.
 */
const zoo = <M>(arch: string) => (opts: ModelOptions = {}) => createModel(arch, opts) as Promise<M>;

export const resnet18 = zoo<ResNet>('resnet18');
export const resnet34 = zoo<ResNet>('resnet34');
export const resnet50 = zoo<ResNet>('resnet50');
export const resnet101 = zoo<ResNet>('resnet101');
export const resnet152 = zoo<ResNet>('resnet152');
export const resnext50_32x4d = zoo<ResNet>('resnext50_32x4d');
export const wide_resnet50_2 = zoo<ResNet>('wide_resnet50_2');
export const vgg11 = zoo<VGG>('vgg11');
export const vgg11_bn = zoo<VGG>('vgg11_bn');
export const vgg13 = zoo<VGG>('vgg13');
export const vgg13_bn = zoo<VGG>('vgg13_bn');
export const vgg16 = zoo<VGG>('vgg16');
export const vgg16_bn = zoo<VGG>('vgg16_bn');
export const vgg19 = zoo<VGG>('vgg19');
export const vgg19_bn = zoo<VGG>('vgg19_bn');
export const mobilenet_v2 = zoo<MobileNetV2>('mobilenet_v2');
export const mobilenet_v3_small = zoo<MobileNetV3>('mobilenet_v3_small');
export const mobilenet_v3_large = zoo<MobileNetV3>('mobilenet_v3_large');
export const convnext_tiny = zoo<ConvNeXt>('convnext_tiny');
export const convnext_small = zoo<ConvNeXt>('convnext_small');
export const convnext_base = zoo<ConvNeXt>('convnext_base');
export const convnext_large = zoo<ConvNeXt>('convnext_large');
export const efficientnet_b0 = zoo<EfficientNet>('efficientnet_b0');
export const efficientnet_b1 = zoo<EfficientNet>('efficientnet_b1');
export const efficientnet_b2 = zoo<EfficientNet>('efficientnet_b2');
export const efficientnet_b3 = zoo<EfficientNet>('efficientnet_b3');
export const efficientnet_b4 = zoo<EfficientNet>('efficientnet_b4');
export const efficientnet_b5 = zoo<EfficientNet>('efficientnet_b5');
export const efficientnet_b6 = zoo<EfficientNet>('efficientnet_b6');
export const efficientnet_b7 = zoo<EfficientNet>('efficientnet_b7');
export const efficientnet_v2_s = zoo<EfficientNet>('efficientnet_v2_s');
export const efficientnet_v2_m = zoo<EfficientNet>('efficientnet_v2_m');
export const efficientnet_v2_l = zoo<EfficientNet>('efficientnet_v2_l');

export { createModel, listModels, weightsFor, findWeights, registerModel, IMAGENET_CATEGORIES, type ModelOptions } from './registry.ts';
export type { WeightsEntry, Preprocessing } from './catalog.ts';
export { ResNet, BasicBlock, Bottleneck } from './resnet.ts';
export { VGG } from './vgg.ts';
export { MobileNetV2, InvertedResidual } from './mobilenetv2.ts';
export { MobileNetV3, InvertedResidualV3, SqueezeExcitation } from './mobilenetv3.ts';
export { ConvNeXt, CNBlock } from './convnext.ts';
export { EfficientNet, MBConv, FusedMBConv } from './efficientnet.ts';
export { createClassifier, type ClassifierOptions } from './classifier.ts';
export { BackboneClassifier } from './backbone-classifier.ts';
export { OnnxBackbone, loadOnnxBackbone } from './onnx-backbone.ts';
export { dequantize, DequantizedBackbone } from './dequantize.ts';
export { TfjsLayersModel } from './tfjs-model.ts';
export { isStaged, type Stage, type Staged } from './stages.ts';
