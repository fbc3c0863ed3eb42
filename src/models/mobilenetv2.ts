import type { Tensor } from '../graph/tensor.ts';
import { Module, Conv2d, BatchNorm2d, ReLU6, Dropout, Linear, Sequential } from '../nn/index.ts';
import * as F from '../nn/functional.ts';
import { initConvLinear } from './init.ts';
import { convNormActivation, makeDivisible } from './mobilenet-common.ts';
import { stage, type Stage, type Staged } from './stages.ts';

/** torchvision's MobileNetV2 (mobilenetv2.py). */

export class InvertedResidual extends Module {
  conv: Sequential;
  readonly useResConnect: boolean;
  readonly outChannels: number;

  constructor(inp: number, oup: number, stride: number, expandRatio: number) {
    super();
    const hidden = Math.round(inp * expandRatio);
    this.useResConnect = stride === 1 && inp === oup;
    const layers: Module[] = [];
    if (expandRatio !== 1) layers.push(convNormActivation(inp, hidden, 1, { activation: () => new ReLU6() }));
    layers.push(
      convNormActivation(hidden, hidden, 3, { stride, groups: hidden, activation: () => new ReLU6() }),
      new Conv2d(hidden, oup, 1, { bias: false }),
      new BatchNorm2d(oup),
    );
    this.conv = new Sequential(...layers);
    this.outChannels = oup;
  }

  forward(x: Tensor): Tensor {
    const y = this.conv.forward(x);
    return this.useResConnect ? F.add(x, y) : y;
  }
}

/** The t (expansion), c (channels), n (repeats), s (stride) table of the paper. */
const SETTINGS: readonly [number, number, number, number][] = [
  [1, 16, 1, 1], [6, 24, 2, 2], [6, 32, 3, 2], [6, 64, 4, 2], [6, 96, 3, 1], [6, 160, 3, 2], [6, 320, 1, 1],
];

export interface MobileNetV2Config { numClasses?: number; widthMult?: number; dropout?: number }

export class MobileNetV2 extends Module implements Staged {
  features: Sequential;
  classifier: Sequential;
  readonly lastChannel: number;

  constructor(cfg: MobileNetV2Config = {}) {
    super();
    const width = cfg.widthMult ?? 1;
    let inputChannel = makeDivisible(32 * width);
    this.lastChannel = makeDivisible(1280 * Math.max(1, width));
    const layers: Module[] = [convNormActivation(3, inputChannel, 3, { stride: 2, activation: () => new ReLU6() })];
    for (const [t, c, n, s] of SETTINGS) {
      const out = makeDivisible(c * width);
      for (let i = 0; i < n; i++) {
        layers.push(new InvertedResidual(inputChannel, out, i === 0 ? s : 1, t));
        inputChannel = out;
      }
    }
    layers.push(convNormActivation(inputChannel, this.lastChannel, 1, { activation: () => new ReLU6() }));
    this.features = new Sequential(...layers);
    this.classifier = new Sequential(new Dropout(cfg.dropout ?? 0.2), new Linear(this.lastChannel, cfg.numClasses ?? 1000));
    initConvLinear(this);
  }

  forward(x: Tensor): Tensor {
    const pooled = F.adaptiveAvgPool2d(this.features.forward(x), 1);
    return this.classifier.forward(F.flatten(pooled, 1));
  }

  stages(): Stage[] {
    return [
      ...[...this.features.namedChildren()].map(([k, m]) => stage(`features.${k}`, [m], (x) => m.forward(x))),
      stage('pool', [], (x) => F.flatten(F.adaptiveAvgPool2d(x, 1), 1)),
      stage('head', [this.classifier], (x) => this.classifier.forward(x)),
    ];
  }

  get numClasses(): number { return (this.classifier[1] as Linear).outFeatures; }

  resetClassifier(numClasses: number): void {
    this.classifier[1] = new Linear(this.lastChannel, numClasses);
  }
}

export const mobilenet_v2 = (cfg: MobileNetV2Config = {}) => new MobileNetV2(cfg);
