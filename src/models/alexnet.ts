import type { Tensor } from '../graph/tensor.ts';
import { Module, Conv2d, ReLU, MaxPool2d, AdaptiveAvgPool2d, Linear, Sequential, Dropout } from '../nn/index.ts';
import * as F from '../nn/functional.ts';
import { stage, type Stage, type Staged } from './stages.ts';

/** torchvision's AlexNet (alexnet.py), with PyTorch's default initialization as torchvision keeps it. */
export interface AlexNetConfig { numClasses?: number; dropout?: number }

export class AlexNet extends Module implements Staged {
  features = new Sequential(
    new Conv2d(3, 64, 11, { stride: 4, padding: 2 }), new ReLU(), new MaxPool2d(3, { stride: 2 }),
    new Conv2d(64, 192, 5, { padding: 2 }), new ReLU(), new MaxPool2d(3, { stride: 2 }),
    new Conv2d(192, 384, 3, { padding: 1 }), new ReLU(),
    new Conv2d(384, 256, 3, { padding: 1 }), new ReLU(),
    new Conv2d(256, 256, 3, { padding: 1 }), new ReLU(), new MaxPool2d(3, { stride: 2 }),
  );
  avgpool = new AdaptiveAvgPool2d([6, 6]);
  classifier: Sequential;

  constructor(cfg: AlexNetConfig = {}) {
    super();
    const p = cfg.dropout ?? 0.5;
    // Dropout before each of the first two Linear layers, as torchvision places it.
    this.classifier = new Sequential(
      new Dropout(p), new Linear(256 * 6 * 6, 4096), new ReLU(),
      new Dropout(p), new Linear(4096, 4096), new ReLU(),
      new Linear(4096, cfg.numClasses ?? 1000),
    );
  }

  forward(x: Tensor): Tensor {
    return this.classifier.forward(F.flatten(this.avgpool.forward(this.features.forward(x)), 1));
  }

  /** One stage per convolution (with its ReLU and pool), the 6x6 pooling, then the whole classifier. */
  stages(): Stage[] {
    const blocks: Module[][] = [];
    for (const m of this.features.children()) {
      if (m instanceof Conv2d) blocks.push([]);
      blocks[blocks.length - 1].push(m);
    }
    return [
      ...blocks.map((b, i) => stage(`conv${i + 1}`, b, (x) => b.reduce((y, m) => m.forward(y), x))),
      stage('pool', [], (x) => F.flatten(this.avgpool.forward(x), 1)),
      stage('head', [this.classifier], (x) => this.classifier.forward(x)),
    ];
  }

  get numClasses(): number { return (this.classifier[6] as Linear).outFeatures; }

  resetClassifier(numClasses: number): void {
    this.classifier[6] = new Linear((this.classifier[6] as Linear).inFeatures, numClasses);
  }
}

export const alexnet = (cfg: AlexNetConfig = {}) => new AlexNet(cfg);
