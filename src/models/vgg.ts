import type { Tensor } from '../graph/tensor.ts';
import { Module, Conv2d, BatchNorm2d, ReLU, MaxPool2d, AdaptiveAvgPool2d, Linear, Sequential, Dropout } from '../nn/index.ts';
import * as F from '../nn/functional.ts';
import { initConvLinear } from './init.ts';
import { stage, type Stage, type Staged } from './stages.ts';

/** torchvision's VGG (vgg.py): the architecture is a table of channel counts and "M" for max pooling. */
const CFGS = {
  A: [64, 'M', 128, 'M', 256, 256, 'M', 512, 512, 'M', 512, 512, 'M'],
  B: [64, 64, 'M', 128, 128, 'M', 256, 256, 'M', 512, 512, 'M', 512, 512, 'M'],
  D: [64, 64, 'M', 128, 128, 'M', 256, 256, 256, 'M', 512, 512, 512, 'M', 512, 512, 512, 'M'],
  E: [64, 64, 'M', 128, 128, 'M', 256, 256, 256, 256, 'M', 512, 512, 512, 512, 'M', 512, 512, 512, 512, 'M'],
} as const satisfies Record<string, readonly (number | 'M')[]>;

function makeLayers(cfg: readonly (number | 'M')[], batchNorm: boolean): Sequential {
  const layers: Module[] = [];
  let inChannels = 3;
  for (const v of cfg) {
    if (v === 'M') {
      layers.push(new MaxPool2d(2, { stride: 2 }));
    } else {
      layers.push(new Conv2d(inChannels, v, 3, { padding: 1 }));
      if (batchNorm) layers.push(new BatchNorm2d(v));
      layers.push(new ReLU());
      inChannels = v;
    }
  }
  return new Sequential(...layers);
}

export interface VGGConfig { numClasses?: number; dropout?: number }

export class VGG extends Module implements Staged {
  features: Sequential;
  avgpool = new AdaptiveAvgPool2d([7, 7]);
  classifier: Sequential;

  constructor(features: Sequential, cfg: VGGConfig = {}) {
    super();
    const p = cfg.dropout ?? 0.5;
    this.features = features;
    this.classifier = new Sequential(
      new Linear(512 * 7 * 7, 4096), new ReLU(), new Dropout(p),
      new Linear(4096, 4096), new ReLU(), new Dropout(p),
      new Linear(4096, cfg.numClasses ?? 1000),
    );
    initConvLinear(this);
  }

  forward(x: Tensor): Tensor {
    return this.classifier.forward(F.flatten(this.avgpool.forward(this.features.forward(x)), 1));
  }

  /** Each block ends at a max pool; the whole classifier (three Linear layers with dropout) is the head. */
  stages(): Stage[] {
    const blocks: Module[][] = [[]];
    for (const m of this.features.children()) {
      blocks[blocks.length - 1].push(m);
      if (m instanceof MaxPool2d) blocks.push([]);
    }
    return [
      ...blocks.filter((b) => b.length).map((b, i) => stage(`block${i + 1}`, b, (x) => b.reduce((y, m) => m.forward(y), x))),
      stage('pool', [], (x) => F.flatten(this.avgpool.forward(x), 1)),
      stage('head', [this.classifier], (x) => this.classifier.forward(x)),
    ];
  }

  get numClasses(): number { return (this.classifier[6] as Linear).outFeatures; }

  resetClassifier(numClasses: number): void {
    this.classifier[6] = new Linear((this.classifier[6] as Linear).inFeatures, numClasses);
  }
}

const vgg = (cfg: keyof typeof CFGS, bn: boolean) => (c: VGGConfig = {}) => new VGG(makeLayers(CFGS[cfg], bn), c);
export const vgg11 = vgg('A', false);
export const vgg11_bn = vgg('A', true);
export const vgg13 = vgg('B', false);
export const vgg13_bn = vgg('B', true);
export const vgg16 = vgg('D', false);
export const vgg16_bn = vgg('D', true);
export const vgg19 = vgg('E', false);
export const vgg19_bn = vgg('E', true);
