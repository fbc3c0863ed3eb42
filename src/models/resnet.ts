import type { Tensor } from '../graph/tensor.ts';
import { Module, Conv2d, BatchNorm2d, ReLU, MaxPool2d, AdaptiveAvgPool2d, Linear, Sequential } from '../nn/index.ts';
import * as F from '../nn/functional.ts';
import { kaimingNormalFanOut } from '../nn/init.ts';
import { stage, type Stage, type Staged } from './stages.ts';

/** torchvision's ResNet family (resnet.py): same blocks, same attribute names, same state-dict keys. */

const conv3x3 = (inp: number, out: number, stride = 1, groups = 1, dilation = 1) =>
  new Conv2d(inp, out, 3, { stride, padding: dilation, groups, bias: false, dilation });
const conv1x1 = (inp: number, out: number, stride = 1) => new Conv2d(inp, out, 1, { stride, bias: false });

interface BlockArgs { inplanes: number; planes: number; stride: number; downsample: Sequential | null; groups: number; baseWidth: number }

export class BasicBlock extends Module {
  static readonly expansion = 1;
  conv1: Conv2d; bn1: BatchNorm2d; relu = new ReLU(); conv2: Conv2d; bn2: BatchNorm2d;
  downsample: Sequential | null;

  constructor({ inplanes, planes, stride, downsample, groups, baseWidth }: BlockArgs) {
    super();
    if (groups !== 1 || baseWidth !== 64) throw new RangeError('BasicBlock only supports groups=1 and baseWidth=64');
    this.conv1 = conv3x3(inplanes, planes, stride);
    this.bn1 = new BatchNorm2d(planes);
    this.conv2 = conv3x3(planes, planes);
    this.bn2 = new BatchNorm2d(planes);
    this.downsample = downsample;
  }

  forward(x: Tensor): Tensor {
    const out = this.bn2.forward(this.conv2.forward(this.relu.forward(this.bn1.forward(this.conv1.forward(x)))));
    const identity = this.downsample ? this.downsample.forward(x) : x;
    return F.relu(F.add(out, identity));
  }
}

export class Bottleneck extends Module {
  static readonly expansion = 4;
  conv1: Conv2d; bn1: BatchNorm2d; conv2: Conv2d; bn2: BatchNorm2d; conv3: Conv2d; bn3: BatchNorm2d;
  relu = new ReLU();
  downsample: Sequential | null;

  constructor({ inplanes, planes, stride, downsample, groups, baseWidth }: BlockArgs) {
    super();
    const width = Math.floor(planes * (baseWidth / 64)) * groups;
    this.conv1 = conv1x1(inplanes, width);
    this.bn1 = new BatchNorm2d(width);
    this.conv2 = conv3x3(width, width, stride, groups);
    this.bn2 = new BatchNorm2d(width);
    this.conv3 = conv1x1(width, planes * Bottleneck.expansion);
    this.bn3 = new BatchNorm2d(planes * Bottleneck.expansion);
    this.downsample = downsample;
  }

  forward(x: Tensor): Tensor {
    let out = this.relu.forward(this.bn1.forward(this.conv1.forward(x)));
    out = this.relu.forward(this.bn2.forward(this.conv2.forward(out)));
    out = this.bn3.forward(this.conv3.forward(out));
    const identity = this.downsample ? this.downsample.forward(x) : x;
    return F.relu(F.add(out, identity));
  }
}

type BlockType = typeof BasicBlock | typeof Bottleneck;

export interface ResNetConfig { numClasses?: number; groups?: number; widthPerGroup?: number }

export class ResNet extends Module implements Staged {
  conv1: Conv2d; bn1: BatchNorm2d; relu = new ReLU(); maxpool = new MaxPool2d(3, { stride: 2, padding: 1 });
  layer1: Sequential; layer2: Sequential; layer3: Sequential; layer4: Sequential;
  avgpool = new AdaptiveAvgPool2d(1);
  fc: Linear;
  private inplanes = 64;

  constructor(readonly block: BlockType, readonly layers: readonly number[], cfg: ResNetConfig = {}) {
    super();
    const groups = cfg.groups ?? 1;
    const baseWidth = cfg.widthPerGroup ?? 64;
    this.conv1 = new Conv2d(3, 64, 7, { stride: 2, padding: 3, bias: false });
    this.bn1 = new BatchNorm2d(64);
    const make = (planes: number, blocks: number, stride: number) => this.makeLayer(block, planes, blocks, stride, groups, baseWidth);
    this.layer1 = make(64, layers[0], 1);
    this.layer2 = make(128, layers[1], 2);
    this.layer3 = make(256, layers[2], 2);
    this.layer4 = make(512, layers[3], 2);
    this.fc = new Linear(512 * block.expansion, cfg.numClasses ?? 1000);
    for (const m of this.modules()) if (m instanceof Conv2d) m.weight.assign(kaimingNormalFanOut(m.weight.shape));
  }

  private makeLayer(block: BlockType, planes: number, blocks: number, stride: number, groups: number, baseWidth: number): Sequential {
    const expanded = planes * block.expansion;
    const downsample = stride !== 1 || this.inplanes !== expanded
      ? new Sequential(conv1x1(this.inplanes, expanded, stride), new BatchNorm2d(expanded))
      : null;
    const first = new block({ inplanes: this.inplanes, planes, stride, downsample, groups, baseWidth });
    this.inplanes = expanded;
    const rest = Array.from({ length: blocks - 1 }, () => new block({ inplanes: this.inplanes, planes, stride: 1, downsample: null, groups, baseWidth }));
    return new Sequential(first, ...rest);
  }

  forward(x: Tensor): Tensor {
    x = this.maxpool.forward(this.relu.forward(this.bn1.forward(this.conv1.forward(x))));
    x = this.layer4.forward(this.layer3.forward(this.layer2.forward(this.layer1.forward(x))));
    return this.fc.forward(F.flatten(this.avgpool.forward(x), 1));
  }

  stages(): Stage[] {
    return [
      stage('stem', [this.conv1, this.bn1], (x) => this.maxpool.forward(this.relu.forward(this.bn1.forward(this.conv1.forward(x))))),
      ...(['layer1', 'layer2', 'layer3', 'layer4'] as const).map((k) => stage(k, [this[k]], (x) => this[k].forward(x))),
      stage('pool', [], (x) => F.flatten(this.avgpool.forward(x), 1)),
      stage('head', [this.fc], (x) => this.fc.forward(x)),
    ];
  }

  get numClasses(): number { return this.fc.outFeatures; }

  resetClassifier(numClasses: number): void {
    this.fc = new Linear(this.fc.inFeatures, numClasses);
  }
}

export const resnet18 = (cfg: ResNetConfig = {}) => new ResNet(BasicBlock, [2, 2, 2, 2], cfg);
export const resnet34 = (cfg: ResNetConfig = {}) => new ResNet(BasicBlock, [3, 4, 6, 3], cfg);
export const resnet50 = (cfg: ResNetConfig = {}) => new ResNet(Bottleneck, [3, 4, 6, 3], cfg);
export const resnet101 = (cfg: ResNetConfig = {}) => new ResNet(Bottleneck, [3, 4, 23, 3], cfg);
export const resnet152 = (cfg: ResNetConfig = {}) => new ResNet(Bottleneck, [3, 8, 36, 3], cfg);
export const resnext50_32x4d = (cfg: ResNetConfig = {}) => new ResNet(Bottleneck, [3, 4, 6, 3], { ...cfg, groups: 32, widthPerGroup: 4 });
export const wide_resnet50_2 = (cfg: ResNetConfig = {}) => new ResNet(Bottleneck, [3, 4, 6, 3], { ...cfg, widthPerGroup: 128 });
export const resnext101_32x8d = (cfg: ResNetConfig = {}) => new ResNet(Bottleneck, [3, 4, 23, 3], { ...cfg, groups: 32, widthPerGroup: 8 });
export const resnext101_64x4d = (cfg: ResNetConfig = {}) => new ResNet(Bottleneck, [3, 4, 23, 3], { ...cfg, groups: 64, widthPerGroup: 4 });
export const wide_resnet101_2 = (cfg: ResNetConfig = {}) => new ResNet(Bottleneck, [3, 4, 23, 3], { ...cfg, widthPerGroup: 128 });
