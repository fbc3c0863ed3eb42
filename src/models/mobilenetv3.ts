import type { Tensor } from '../graph/tensor.ts';
import { Module, Conv2d, ReLU, Hardswish, Hardsigmoid, Dropout, Linear, Sequential, AdaptiveAvgPool2d } from '../nn/index.ts';
import * as F from '../nn/functional.ts';
import { initConvLinear } from './init.ts';
import { convNormActivation, makeDivisible } from './mobilenet-common.ts';
import { stage, type Stage, type Staged } from './stages.ts';

/** torchvision's MobileNetV3 (mobilenetv3.py). Its batch norms use eps=0.001, momentum=0.01. */

const BN = { eps: 0.001, momentum: 0.01 };

/**
 * Squeeze-and-excitation (torchvision.ops.SqueezeExcitation): channel weights from a pooled
 * summary; keys fc1, fc2. MobileNetV3 uses ReLU and hardsigmoid, EfficientNet SiLU and sigmoid.
 */
export class SqueezeExcitation extends Module {
  avgpool = new AdaptiveAvgPool2d(1);
  fc1: Conv2d; fc2: Conv2d;
  activation: Module;
  scaleActivation: Module;

  constructor(inputChannels: number, squeezeChannels: number, activation: () => Module = () => new ReLU(), scaleActivation: () => Module = () => new Hardsigmoid()) {
    super();
    this.fc1 = new Conv2d(inputChannels, squeezeChannels, 1);
    this.fc2 = new Conv2d(squeezeChannels, inputChannels, 1);
    this.activation = activation();
    this.scaleActivation = scaleActivation();
  }

  forward(x: Tensor): Tensor {
    const s = this.fc2.forward(this.activation.forward(this.fc1.forward(this.avgpool.forward(x))));
    return F.mul(this.scaleActivation.forward(s), x);
  }
}

/** One row of the architecture table: kernel, expanded channels, output channels, SE, activation, stride, dilation. */
interface BlockConfig { input: number; kernel: number; expanded: number; out: number; useSE: boolean; hardswish: boolean; stride: number; dilation: number }

function row(input: number, kernel: number, expanded: number, out: number, useSE: boolean, act: 'RE' | 'HS', stride: number, widthMult = 1): BlockConfig {
  const adjust = (c: number) => makeDivisible(c * widthMult);
  return { input: adjust(input), kernel, expanded: adjust(expanded), out: adjust(out), useSE, hardswish: act === 'HS', stride, dilation: 1 };
}

export class InvertedResidualV3 extends Module {
  block: Sequential;
  readonly useResConnect: boolean;

  constructor(c: BlockConfig) {
    super();
    this.useResConnect = c.stride === 1 && c.input === c.out;
    const activation = c.hardswish ? () => new Hardswish() : () => new ReLU();
    const layers: Module[] = [];
    if (c.expanded !== c.input) layers.push(convNormActivation(c.input, c.expanded, 1, { activation, ...BN }));
    layers.push(convNormActivation(c.expanded, c.expanded, c.kernel, { stride: c.stride, groups: c.expanded, activation, ...BN }));
    if (c.useSE) layers.push(new SqueezeExcitation(c.expanded, makeDivisible(c.expanded / 4)));
    layers.push(convNormActivation(c.expanded, c.out, 1, { activation: null, ...BN }));
    this.block = new Sequential(...layers);
  }

  forward(x: Tensor): Tensor {
    const y = this.block.forward(x);
    return this.useResConnect ? F.add(y, x) : y;
  }
}

const LARGE = [
  row(16, 3, 16, 16, false, 'RE', 1), row(16, 3, 64, 24, false, 'RE', 2), row(24, 3, 72, 24, false, 'RE', 1),
  row(24, 5, 72, 40, true, 'RE', 2), row(40, 5, 120, 40, true, 'RE', 1), row(40, 5, 120, 40, true, 'RE', 1),
  row(40, 3, 240, 80, false, 'HS', 2), row(80, 3, 200, 80, false, 'HS', 1), row(80, 3, 184, 80, false, 'HS', 1),
  row(80, 3, 184, 80, false, 'HS', 1), row(80, 3, 480, 112, true, 'HS', 1), row(112, 3, 672, 112, true, 'HS', 1),
  row(112, 5, 672, 160, true, 'HS', 2), row(160, 5, 960, 160, true, 'HS', 1), row(160, 5, 960, 160, true, 'HS', 1),
];
const SMALL = [
  row(16, 3, 16, 16, true, 'RE', 2), row(16, 3, 72, 24, false, 'RE', 2), row(24, 3, 88, 24, false, 'RE', 1),
  row(24, 5, 96, 40, true, 'HS', 2), row(40, 5, 240, 40, true, 'HS', 1), row(40, 5, 240, 40, true, 'HS', 1),
  row(40, 5, 120, 48, true, 'HS', 1), row(48, 5, 144, 48, true, 'HS', 1), row(48, 5, 288, 96, true, 'HS', 2),
  row(96, 5, 576, 96, true, 'HS', 1), row(96, 5, 576, 96, true, 'HS', 1),
];

export interface MobileNetV3Config { numClasses?: number; dropout?: number }

export class MobileNetV3 extends Module implements Staged {
  features: Sequential;
  avgpool = new AdaptiveAvgPool2d(1);
  classifier: Sequential;

  constructor(settings: readonly BlockConfig[], lastChannel: number, cfg: MobileNetV3Config = {}) {
    super();
    const first = settings[0].input;
    const lastIn = settings[settings.length - 1].out;
    const lastOut = 6 * lastIn;
    this.features = new Sequential(
      convNormActivation(3, first, 3, { stride: 2, activation: () => new Hardswish(), ...BN }),
      ...settings.map((s) => new InvertedResidualV3(s)),
      convNormActivation(lastIn, lastOut, 1, { activation: () => new Hardswish(), ...BN }),
    );
    this.classifier = new Sequential(
      new Linear(lastOut, lastChannel), new Hardswish(), new Dropout(cfg.dropout ?? 0.2), new Linear(lastChannel, cfg.numClasses ?? 1000),
    );
    initConvLinear(this);
  }

  forward(x: Tensor): Tensor {
    return this.classifier.forward(F.flatten(this.avgpool.forward(this.features.forward(x)), 1));
  }

  stages(): Stage[] {
    return [
      ...[...this.features.namedChildren()].map(([k, m]) => stage(`features.${k}`, [m], (x) => m.forward(x))),
      stage('pool', [], (x) => F.flatten(this.avgpool.forward(x), 1)),
      stage('head', [this.classifier], (x) => this.classifier.forward(x)),
    ];
  }

  get numClasses(): number { return (this.classifier[3] as Linear).outFeatures; }

  resetClassifier(numClasses: number): void {
    this.classifier[3] = new Linear((this.classifier[3] as Linear).inFeatures, numClasses);
  }
}

export const mobilenet_v3_large = (cfg: MobileNetV3Config = {}) => new MobileNetV3(LARGE, 1280, cfg);
export const mobilenet_v3_small = (cfg: MobileNetV3Config = {}) => new MobileNetV3(SMALL, 1024, cfg);
