import type { Tensor } from '../graph/tensor.ts';
import { Module, Conv2d, ReLU, MaxPool2d, AdaptiveAvgPool2d, Sequential, Dropout } from '../nn/index.ts';
import * as F from '../nn/functional.ts';
import { kaimingUniform, normals } from '../nn/init.ts';
import { stage, type Stage, type Staged } from './stages.ts';

/** torchvision's SqueezeNet 1.0 and 1.1 (squeezenet.py). */

/** A 1x1 squeeze, then 1x1 and 3x3 expansions side by side, concatenated on channels. */
export class Fire extends Module {
  squeeze: Conv2d; squeeze_activation = new ReLU();
  expand1x1: Conv2d; expand1x1_activation = new ReLU();
  expand3x3: Conv2d; expand3x3_activation = new ReLU();

  constructor(inplanes: number, squeezePlanes: number, expand1x1Planes: number, expand3x3Planes: number) {
    super();
    this.squeeze = new Conv2d(inplanes, squeezePlanes, 1);
    this.expand1x1 = new Conv2d(squeezePlanes, expand1x1Planes, 1);
    this.expand3x3 = new Conv2d(squeezePlanes, expand3x3Planes, 3, { padding: 1 });
  }

  forward(x: Tensor): Tensor {
    const s = this.squeeze_activation.forward(this.squeeze.forward(x));
    return F.cat([this.expand1x1_activation.forward(this.expand1x1.forward(s)), this.expand3x3_activation.forward(this.expand3x3.forward(s))], 1);
  }
}

// Ceil-mode pooling: the last window may hang over the edge, as Caffe's pooling did.
const pool = () => new MaxPool2d(3, { stride: 2, ceilMode: true });

const FEATURES = {
  '1_0': () => [
    new Conv2d(3, 96, 7, { stride: 2 }), new ReLU(), pool(),
    new Fire(96, 16, 64, 64), new Fire(128, 16, 64, 64), new Fire(128, 32, 128, 128), pool(),
    new Fire(256, 32, 128, 128), new Fire(256, 48, 192, 192), new Fire(384, 48, 192, 192), new Fire(384, 64, 256, 256), pool(),
    new Fire(512, 64, 256, 256),
  ],
  '1_1': () => [
    new Conv2d(3, 64, 3, { stride: 2 }), new ReLU(), pool(),
    new Fire(64, 16, 64, 64), new Fire(128, 16, 64, 64), pool(),
    new Fire(128, 32, 128, 128), new Fire(256, 32, 128, 128), pool(),
    new Fire(256, 48, 192, 192), new Fire(384, 48, 192, 192), new Fire(384, 64, 256, 256), new Fire(512, 64, 256, 256),
  ],
} as const satisfies Record<string, () => Module[]>;

/** [N, C*S*S] back to [N, C, S, S]. */
function unflattenSquare(x: Tensor, channels: number): Tensor {
  const side = Math.round(Math.sqrt(x.shape[1] / channels));
  if (x.ndim !== 2 || side * side * channels !== x.shape[1]) {
    throw new RangeError(`SqueezeNet's head expects a flattened square ${channels}-channel map but received [${x.shape}]`);
  }
  return F.reshape(x, [x.shape[0], channels, side, side]);
}

export interface SqueezeNetConfig { numClasses?: number; dropout?: number }

const finalConv = (numClasses: number) => {
  const conv = new Conv2d(512, numClasses, 1);
  conv.weight.assign(normals(conv.weight.size, 0, 0.01));
  conv.bias!.assign(new Float32Array(numClasses));
  return conv;
};

/**
 * The classifier is a 1x1 convolution to the classes before the pooling, not a Linear: the
 * embedding a frozen backbone hands the head is the 512-channel feature map, flattened (the
 * feature cache keeps [N, features] rows) and unflattened again by the head. Crops are square.
 */
export class SqueezeNet extends Module implements Staged {
  features: Sequential;
  classifier: Sequential;

  constructor(readonly version: keyof typeof FEATURES, cfg: SqueezeNetConfig = {}) {
    super();
    this.features = new Sequential(...FEATURES[version]());
    for (const m of this.features.modules()) {
      if (m instanceof Conv2d) {
        m.weight.assign(kaimingUniform(m.weight.shape));
        m.bias!.assign(new Float32Array(m.outChannels));
      }
    }
    this.classifier = new Sequential(new Dropout(cfg.dropout ?? 0.5), finalConv(cfg.numClasses ?? 1000), new ReLU(), new AdaptiveAvgPool2d([1, 1]));
  }

  forward(x: Tensor): Tensor {
    return F.flatten(this.classifier.forward(this.features.forward(x)), 1);
  }

  /** The stem, then each run of Fire modules up to a pool; the classifier runs on the 4-D map. */
  stages(): Stage[] {
    const blocks: Module[][] = [[]];
    for (const m of this.features.children()) {
      blocks[blocks.length - 1].push(m);
      if (m instanceof MaxPool2d) blocks.push([]);
    }
    return [
      ...blocks.filter((b) => b.length).map((b, i) => stage(i === 0 ? 'stem' : `block${i}`, b, (x) => b.reduce((y, m) => m.forward(y), x))),
      stage('pool', [], (x) => F.flatten(x, 1)),
      stage('head', [this.classifier], (x) => F.flatten(this.classifier.forward(unflattenSquare(x, 512)), 1)),
    ];
  }

  get numClasses(): number { return (this.classifier[1] as Conv2d).outChannels; }

  resetClassifier(numClasses: number): void {
    this.classifier[1] = finalConv(numClasses);
  }
}

export const squeezenet1_0 = (cfg: SqueezeNetConfig = {}) => new SqueezeNet('1_0', cfg);
export const squeezenet1_1 = (cfg: SqueezeNetConfig = {}) => new SqueezeNet('1_1', cfg);
