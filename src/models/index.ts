import { createModel, type ModelOptions } from './registry.ts';
import type { ResNet } from './resnet.ts';
import type { VGG } from './vgg.ts';
import type { MobileNetV2 } from './mobilenetv2.ts';
import type { MobileNetV3 } from './mobilenetv3.ts';
import type { AlexNet } from './alexnet.ts';
import type { DenseNet } from './densenet.ts';
import type { GoogLeNet } from './googlenet.ts';
import type { Inception3 } from './inception.ts';
import type { SqueezeNet } from './squeezenet.ts';

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
export const alexnet = zoo<AlexNet>('alexnet');
export const densenet121 = zoo<DenseNet>('densenet121');
export const densenet161 = zoo<DenseNet>('densenet161');
export const densenet169 = zoo<DenseNet>('densenet169');
export const densenet201 = zoo<DenseNet>('densenet201');
export const googlenet = zoo<GoogLeNet>('googlenet');
export const inception_v3 = zoo<Inception3>('inception_v3');
export const squeezenet1_0 = zoo<SqueezeNet>('squeezenet1_0');
export const squeezenet1_1 = zoo<SqueezeNet>('squeezenet1_1');

export { createModel, listModels, weightsFor, findWeights, registerModel, IMAGENET_CATEGORIES, type ModelOptions } from './registry.ts';
export type { WeightsEntry, Preprocessing } from './catalog.ts';
export { ResNet, BasicBlock, Bottleneck } from './resnet.ts';
export { VGG } from './vgg.ts';
export { MobileNetV2, InvertedResidual } from './mobilenetv2.ts';
export { MobileNetV3, InvertedResidualV3, SqueezeExcitation } from './mobilenetv3.ts';
export { AlexNet } from './alexnet.ts';
export { DenseNet, DenseBlock, DenseLayer } from './densenet.ts';
export { GoogLeNet, Inception, InceptionAux, type GoogLeNetOutputs } from './googlenet.ts';
export { Inception3, InceptionA, InceptionB, InceptionC, InceptionD, InceptionE, type InceptionOutputs } from './inception.ts';
export { BasicConv2d } from './inception-common.ts';
export { SqueezeNet, Fire } from './squeezenet.ts';
export { createClassifier, type ClassifierOptions } from './classifier.ts';
export { BackboneClassifier } from './backbone-classifier.ts';
export { OnnxBackbone, loadOnnxBackbone } from './onnx-backbone.ts';
export { dequantize, DequantizedBackbone } from './dequantize.ts';
export { TfjsLayersModel } from './tfjs-model.ts';
export { isStaged, type Stage, type Staged } from './stages.ts';
