import type { Tensor } from '../graph/tensor.ts';
import { Module, Conv2d, BatchNorm2d, ReLU, MaxPool2d, AvgPool2d, Linear, Sequential } from '../nn/index.ts';
import * as F from '../nn/functional.ts';
import { kaimingNormalFanIn } from '../nn/init.ts';
import { stage, type Stage, type Staged } from './stages.ts';

/**
 * torchvision's DenseNet (densenet.py), in its memory_efficient=False form: every layer reads the
 * concatenation of all the feature maps before it in its block.
 */

export class DenseLayer extends Module {
  norm1: BatchNorm2d; relu1 = new ReLU(); conv1: Conv2d;
  norm2: BatchNorm2d; relu2 = new ReLU(); conv2: Conv2d;

  constructor(numInputFeatures: number, growthRate: number, bnSize: number, readonly dropRate: number) {
    super();
    this.norm1 = new BatchNorm2d(numInputFeatures);
    this.conv1 = new Conv2d(numInputFeatures, bnSize * growthRate, 1, { bias: false });
    this.norm2 = new BatchNorm2d(bnSize * growthRate);
    this.conv2 = new Conv2d(bnSize * growthRate, growthRate, 3, { padding: 1, bias: false });
  }

  /** The new growthRate channels from the block's features so far. */
  forward(features: Tensor): Tensor {
    const bottleneck = this.conv1.forward(this.relu1.forward(this.norm1.forward(features)));
    const out = this.conv2.forward(this.relu2.forward(this.norm2.forward(bottleneck)));
    return F.dropout(out, this.dropRate, this.training);
  }
}

/** Layers named denselayer1, denselayer2, ...; the output is the input and every layer's output, concatenated. */
export class DenseBlock extends Module {
  [name: `denselayer${number}`]: DenseLayer;

  constructor(numLayers: number, numInputFeatures: number, bnSize: number, growthRate: number, dropRate: number) {
    super();
    for (let i = 0; i < numLayers; i++) {
      this[`denselayer${i + 1}`] = new DenseLayer(numInputFeatures + i * growthRate, growthRate, bnSize, dropRate);
    }
  }

  forward(x: Tensor): Tensor {
    const features = [x];
    // torch.cat of the whole list at every layer, as torchvision does: same values and gradients
    // as growing one tensor, and the graph keeps torchvision's shape.
    for (const layer of this.children()) features.push(layer.forward(features.length === 1 ? x : F.cat(features, 1)));
    return F.cat(features, 1);
  }
}

const transition = (inp: number, out: number) => Sequential.named([
  ['norm', new BatchNorm2d(inp)], ['relu', new ReLU()],
  ['conv', new Conv2d(inp, out, 1, { bias: false })], ['pool', new AvgPool2d(2, { stride: 2 })],
]);

export interface DenseNetConfig { numClasses?: number; dropRate?: number; bnSize?: number }

export class DenseNet extends Module implements Staged {
  features: Sequential;
  classifier: Linear;

  constructor(growthRate: number, readonly blockConfig: readonly number[], numInitFeatures: number, cfg: DenseNetConfig = {}) {
    super();
    const entries: [string, Module][] = [
      ['conv0', new Conv2d(3, numInitFeatures, 7, { stride: 2, padding: 3, bias: false })],
      ['norm0', new BatchNorm2d(numInitFeatures)], ['relu0', new ReLU()],
      ['pool0', new MaxPool2d(3, { stride: 2, padding: 1 })],
    ];
    let numFeatures = numInitFeatures;
    blockConfig.forEach((numLayers, i) => {
      entries.push([`denseblock${i + 1}`, new DenseBlock(numLayers, numFeatures, cfg.bnSize ?? 4, growthRate, cfg.dropRate ?? 0)]);
      numFeatures += numLayers * growthRate;
      if (i !== blockConfig.length - 1) {
        entries.push([`transition${i + 1}`, transition(numFeatures, Math.floor(numFeatures / 2))]);
        numFeatures = Math.floor(numFeatures / 2);
      }
    });
    entries.push(['norm5', new BatchNorm2d(numFeatures)]);
    this.features = Sequential.named(entries);
    this.classifier = new Linear(numFeatures, cfg.numClasses ?? 1000);
    for (const m of this.modules()) {
      if (m instanceof Conv2d) m.weight.assign(kaimingNormalFanIn(m.weight.shape));
      else if (m instanceof Linear) m.bias?.assign(new Float32Array(m.outFeatures));
    }
  }

  forward(x: Tensor): Tensor {
    return this.classifier.forward(this.embed(this.features.forward(x)));
  }

  /** The final ReLU follows norm5 outside `features`, as in torchvision. */
  private embed(x: Tensor): Tensor {
    return F.flatten(F.adaptiveAvgPool2d(F.relu(x), 1), 1);
  }

  /** The stem, each dense block with the transition after it (the last with norm5), pooling, head. */
  stages(): Stage[] {
    const groups: [string, Module[]][] = [];
    for (const [name, m] of this.features.namedChildren()) {
      if (name === 'conv0' || name.startsWith('denseblock')) groups.push([name === 'conv0' ? 'stem' : name, []]);
      groups[groups.length - 1][1].push(m);
    }
    return [
      ...groups.map(([name, ms]) => stage(name, ms, (x) => ms.reduce((y, m) => m.forward(y), x))),
      stage('pool', [], (x) => this.embed(x)),
      stage('head', [this.classifier], (x) => this.classifier.forward(x)),
    ];
  }

  get numClasses(): number { return this.classifier.outFeatures; }

  resetClassifier(numClasses: number): void {
    const fc = new Linear(this.classifier.inFeatures, numClasses);
    fc.bias!.assign(new Float32Array(numClasses));
    this.classifier = fc;
  }
}

export const densenet121 = (cfg: DenseNetConfig = {}) => new DenseNet(32, [6, 12, 24, 16], 64, cfg);
export const densenet161 = (cfg: DenseNetConfig = {}) => new DenseNet(48, [6, 12, 36, 24], 96, cfg);
export const densenet169 = (cfg: DenseNetConfig = {}) => new DenseNet(32, [6, 12, 32, 32], 64, cfg);
export const densenet201 = (cfg: DenseNetConfig = {}) => new DenseNet(32, [6, 12, 48, 32], 64, cfg);
