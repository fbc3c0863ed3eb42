import type { Tensor } from '../graph/tensor.ts';
import { Module, Conv2d, BatchNorm2d, SiLU, Sigmoid, Dropout, Linear, Sequential, AdaptiveAvgPool2d, StochasticDepth } from '../nn/index.ts';
import * as F from '../nn/functional.ts';
import { kaimingNormalFanOut, uniform } from '../nn/init.ts';
import { convNormActivation, makeDivisible } from './mobilenet-common.ts';
import { SqueezeExcitation } from './mobilenetv3.ts';
import { stage, type Stage, type Staged } from './stages.ts';

/** torchvision's EfficientNet and EfficientNetV2 (efficientnet.py): same blocks, same attribute names, same state-dict keys. */

interface BatchNormArgs { eps: number; momentum: number }
const silu = () => new SiLU();

/**
 * One row of the architecture table (Table 1 of EfficientNet, Table 4 of EfficientNetV2): block
 * kind, expansion, kernel, stride of the first block, channels in and out, blocks in the stage.
 */
export interface MBConvConfig { fused: boolean; expandRatio: number; kernel: number; stride: number; inputChannels: number; outChannels: number; numLayers: number }

/** An MBConv row scaled by width (channels rounded to multiples of 8) and depth (blocks rounded up), as MBConvConfig does. */
function mb(expandRatio: number, kernel: number, stride: number, input: number, out: number, layers: number, width = 1, depth = 1): MBConvConfig {
  return {
    fused: false, expandRatio, kernel, stride,
    inputChannels: makeDivisible(input * width), outChannels: makeDivisible(out * width), numLayers: Math.ceil(layers * depth),
  };
}
/** A FusedMBConv row: EfficientNetV2's channels are not scaled. */
function fused(expandRatio: number, kernel: number, stride: number, input: number, out: number, layers: number): MBConvConfig {
  return { fused: true, expandRatio, kernel, stride, inputChannels: input, outChannels: out, numLayers: layers };
}

/** Inverted residual: 1x1 expansion, depthwise kxk, squeeze-excitation (SiLU, sigmoid), 1x1 projection. */
export class MBConv extends Module {
  block: Sequential;
  stochastic_depth: StochasticDepth;
  readonly useResConnect: boolean;

  constructor(c: MBConvConfig, stochasticDepthProb: number, bn: BatchNormArgs) {
    super();
    this.useResConnect = c.stride === 1 && c.inputChannels === c.outChannels;
    const expanded = makeDivisible(c.inputChannels * c.expandRatio);
    const layers: Module[] = [];
    if (expanded !== c.inputChannels) layers.push(convNormActivation(c.inputChannels, expanded, 1, { activation: silu, ...bn }));
    layers.push(convNormActivation(expanded, expanded, c.kernel, { stride: c.stride, groups: expanded, activation: silu, ...bn }));
    layers.push(new SqueezeExcitation(expanded, Math.max(1, Math.floor(c.inputChannels / 4)), { activation: silu(), scaleActivation: new Sigmoid() }));
    layers.push(convNormActivation(expanded, c.outChannels, 1, { activation: null, ...bn }));
    this.block = new Sequential(...layers);
    this.stochastic_depth = new StochasticDepth(stochasticDepthProb, 'row');
  }

  forward(x: Tensor): Tensor {
    const y = this.block.forward(x);
    return this.useResConnect ? F.add(this.stochastic_depth.forward(y), x) : y;
  }
}

/** EfficientNetV2's early blocks: the expansion and depthwise convolutions fused into one kxk convolution. */
export class FusedMBConv extends Module {
  block: Sequential;
  stochastic_depth: StochasticDepth;
  readonly useResConnect: boolean;

  constructor(c: MBConvConfig, stochasticDepthProb: number, bn: BatchNormArgs) {
    super();
    this.useResConnect = c.stride === 1 && c.inputChannels === c.outChannels;
    const expanded = makeDivisible(c.inputChannels * c.expandRatio);
    this.block = expanded !== c.inputChannels
      ? new Sequential(
        convNormActivation(c.inputChannels, expanded, c.kernel, { stride: c.stride, activation: silu, ...bn }),
        convNormActivation(expanded, c.outChannels, 1, { activation: null, ...bn }),
      )
      : new Sequential(convNormActivation(c.inputChannels, c.outChannels, c.kernel, { stride: c.stride, activation: silu, ...bn }));
    this.stochastic_depth = new StochasticDepth(stochasticDepthProb, 'row');
  }

  forward(x: Tensor): Tensor {
    const y = this.block.forward(x);
    return this.useResConnect ? F.add(this.stochastic_depth.forward(y), x) : y;
  }
}

export interface EfficientNetConfig { numClasses?: number; dropout?: number; stochasticDepthProb?: number }

export class EfficientNet extends Module implements Staged {
  features: Sequential;
  avgpool = new AdaptiveAvgPool2d(1);
  classifier: Sequential;

  constructor(
    readonly setting: readonly MBConvConfig[], dropout: number, lastChannel: number | null,
    bn: BatchNormArgs = { eps: 1e-5, momentum: 0.1 }, cfg: EfficientNetConfig = {},
  ) {
    super();
    const sdProb = cfg.stochasticDepthProb ?? 0.2;
    const layers: Module[] = [convNormActivation(3, setting[0].inputChannels, 3, { stride: 2, activation: silu, ...bn })];
    const total = setting.reduce((n, c) => n + c.numLayers, 0);
    let blockId = 0;
    for (const c of setting) {
      const blocks: Module[] = [];
      for (let i = 0; i < c.numLayers; i++, blockId++) {
        // Blocks after a stage's first take its output width, at stride 1; the drop rate grows with depth.
        const blockCfg = i === 0 ? c : { ...c, inputChannels: c.outChannels, stride: 1 };
        const Block = c.fused ? FusedMBConv : MBConv;
        blocks.push(new Block(blockCfg, (sdProb * blockId) / total, bn));
      }
      layers.push(new Sequential(...blocks));
    }
    const lastIn = setting[setting.length - 1].outChannels;
    const lastOut = lastChannel ?? 4 * lastIn;
    layers.push(convNormActivation(lastIn, lastOut, 1, { activation: silu, ...bn }));
    this.features = new Sequential(...layers);
    this.classifier = new Sequential(new Dropout(cfg.dropout ?? dropout), new Linear(lastOut, cfg.numClasses ?? 1000));
    for (const m of this.modules()) {
      if (m instanceof Conv2d) {
        m.weight.assign(kaimingNormalFanOut(m.weight.shape));
        m.bias?.assign(new Float32Array(m.outChannels));
      } else if (m instanceof Linear) {
        const range = 1 / Math.sqrt(m.outFeatures);
        m.weight.assign(uniform(m.weight.size, -range, range));
        m.bias?.assign(new Float32Array(m.outFeatures));
      }
    }
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

  get numClasses(): number { return (this.classifier[1] as Linear).outFeatures; }

  resetClassifier(numClasses: number): void {
    this.classifier[1] = new Linear((this.classifier[1] as Linear).inFeatures, numClasses);
  }
}

/** EfficientNet B0-B7: one table, scaled in width and depth. */
function v1Setting(width: number, depth: number): MBConvConfig[] {
  const row = (e: number, k: number, s: number, i: number, o: number, n: number) => mb(e, k, s, i, o, n, width, depth);
  return [row(1, 3, 1, 32, 16, 1), row(6, 3, 2, 16, 24, 2), row(6, 5, 2, 24, 40, 2), row(6, 3, 2, 40, 80, 3),
    row(6, 5, 1, 80, 112, 3), row(6, 5, 2, 112, 192, 4), row(6, 3, 1, 192, 320, 1)];
}

const V2_S = [fused(1, 3, 1, 24, 24, 2), fused(4, 3, 2, 24, 48, 4), fused(4, 3, 2, 48, 64, 4),
  mb(4, 3, 2, 64, 128, 6), mb(6, 3, 1, 128, 160, 9), mb(6, 3, 2, 160, 256, 15)];
const V2_M = [fused(1, 3, 1, 24, 24, 3), fused(4, 3, 2, 24, 48, 5), fused(4, 3, 2, 48, 80, 5),
  mb(4, 3, 2, 80, 160, 7), mb(6, 3, 1, 160, 176, 14), mb(6, 3, 2, 176, 304, 18), mb(6, 3, 1, 304, 512, 5)];
const V2_L = [fused(1, 3, 1, 32, 32, 4), fused(4, 3, 2, 32, 64, 7), fused(4, 3, 2, 64, 96, 7),
  mb(4, 3, 2, 96, 192, 10), mb(6, 3, 1, 192, 224, 19), mb(6, 3, 2, 224, 384, 25), mb(6, 3, 1, 384, 640, 7)];

/** B5-B7 were ported from TensorFlow with its batch norm settings; V2 with its epsilon. */
const TF_BN = { eps: 0.001, momentum: 0.01 };
const V2_BN = { eps: 0.001, momentum: 0.1 };

const v1 = (width: number, depth: number, dropout: number, bn?: BatchNormArgs) => (cfg: EfficientNetConfig = {}) =>
  new EfficientNet(v1Setting(width, depth), dropout, null, bn, cfg);
const v2 = (setting: readonly MBConvConfig[], dropout: number) => (cfg: EfficientNetConfig = {}) =>
  new EfficientNet(setting, dropout, 1280, V2_BN, cfg);

export const efficientnet_b0 = v1(1.0, 1.0, 0.2);
export const efficientnet_b1 = v1(1.0, 1.1, 0.2);
export const efficientnet_b2 = v1(1.1, 1.2, 0.3);
export const efficientnet_b3 = v1(1.2, 1.4, 0.3);
export const efficientnet_b4 = v1(1.4, 1.8, 0.4);
export const efficientnet_b5 = v1(1.6, 2.2, 0.4, TF_BN);
export const efficientnet_b6 = v1(1.8, 2.6, 0.5, TF_BN);
export const efficientnet_b7 = v1(2.0, 3.1, 0.5, TF_BN);
export const efficientnet_v2_s = v2(V2_S, 0.2);
export const efficientnet_v2_m = v2(V2_M, 0.3);
export const efficientnet_v2_l = v2(V2_L, 0.4);
