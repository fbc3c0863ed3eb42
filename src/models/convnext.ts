import type { Tensor } from '../graph/tensor.ts';
import {
  Module, Conv2d, Linear, Sequential, AdaptiveAvgPool2d, Flatten, GELU, LayerNorm, LayerNorm2d, Permute, Parameter, StochasticDepth,
} from '../nn/index.ts';
import * as F from '../nn/functional.ts';
import { normals } from '../nn/init.ts';
import { stage, type Stage, type Staged } from './stages.ts';

/** torchvision's ConvNeXt (convnext.py): same blocks, same attribute names, same state-dict keys. */

const EPS = 1e-6;

/**
 * One ConvNeXt block: a 7x7 depthwise convolution, then channels-last layer norm, an MLP with
 * GELU, back to channels-first; scaled per channel (layer scale), dropped per sample in training
 * (stochastic depth), added to the input.
 */
export class CNBlock extends Module {
  layer_scale: Parameter;
  block: Sequential;
  stochastic_depth: StochasticDepth;

  constructor(dim: number, layerScale: number, stochasticDepthProb: number) {
    super();
    this.block = new Sequential(
      new Conv2d(dim, dim, 7, { padding: 3, groups: dim }),
      new Permute([0, 2, 3, 1]),
      new LayerNorm(dim, { eps: EPS }),
      new Linear(dim, 4 * dim),
      new GELU(),
      new Linear(4 * dim, dim),
      new Permute([0, 3, 1, 2]),
    );
    this.layer_scale = new Parameter(new Float32Array(dim).fill(layerScale), [dim, 1, 1]);
    this.stochastic_depth = new StochasticDepth(stochasticDepthProb, 'row');
  }

  forward(x: Tensor): Tensor {
    return F.add(this.stochastic_depth.forward(F.mul(this.layer_scale, this.block.forward(x))), x);
  }
}

/** A row of ConvNeXt's stage table: the stage's width, the next stage's (null after the last), and its depth. */
export interface CNBlockConfig { inputChannels: number; outChannels: number | null; numLayers: number }
const cn = (inputChannels: number, outChannels: number | null, numLayers: number): CNBlockConfig => ({ inputChannels, outChannels, numLayers });

export interface ConvNeXtConfig { numClasses?: number; stochasticDepthProb?: number; layerScale?: number }

export class ConvNeXt extends Module implements Staged {
  features: Sequential;
  avgpool = new AdaptiveAvgPool2d(1);
  classifier: Sequential;

  constructor(readonly blockSetting: readonly CNBlockConfig[], stochasticDepthProb: number, cfg: ConvNeXtConfig = {}) {
    super();
    const layerScale = cfg.layerScale ?? 1e-6;
    const first = blockSetting[0].inputChannels;
    const layers: Module[] = [new Sequential(new Conv2d(3, first, 4, { stride: 4 }), new LayerNorm2d(first, { eps: EPS }))];
    const total = blockSetting.reduce((n, c) => n + c.numLayers, 0);
    let blockId = 0;
    for (const c of blockSetting) {
      const blocks: Module[] = [];
      for (let i = 0; i < c.numLayers; i++, blockId++) {
        // The drop rate grows linearly with depth, from 0 at the first block to the given one at the last.
        blocks.push(new CNBlock(c.inputChannels, layerScale, (stochasticDepthProb * blockId) / (total - 1)));
      }
      layers.push(new Sequential(...blocks));
      if (c.outChannels !== null) {
        layers.push(new Sequential(new LayerNorm2d(c.inputChannels, { eps: EPS }), new Conv2d(c.inputChannels, c.outChannels, 2, { stride: 2 })));
      }
    }
    this.features = new Sequential(...layers);
    const last = blockSetting[blockSetting.length - 1];
    const lastChannels = last.outChannels ?? last.inputChannels;
    this.classifier = new Sequential(new LayerNorm2d(lastChannels, { eps: EPS }), new Flatten(1), new Linear(lastChannels, cfg.numClasses ?? 1000));
    // trunc_normal_(std=0.02) truncates at +-2 absolute, 100 standard deviations: a plain normal.
    for (const m of this.modules()) {
      if (m instanceof Conv2d || m instanceof Linear) {
        m.weight.assign(normals(m.weight.size, 0, 0.02));
        m.bias?.assign(new Float32Array(m.bias.size));
      }
    }
  }

  forward(x: Tensor): Tensor {
    return this.classifier.forward(this.avgpool.forward(this.features.forward(x)));
  }

  /**
   * The stem and each stage and downsampling of `features`, then the pooled features' layer norm
   * (the first module of torchvision's classifier) as a backbone stage of its own, so the
   * embedding is the normalized, flattened vector and the head is the last Linear alone.
   */
  stages(): Stage[] {
    const norm = this.classifier[0];
    return [
      ...[...this.features.namedChildren()].map(([k, m]) => stage(`features.${k}`, [m], (x) => m.forward(x))),
      stage('classifier.0', [norm], (x) => norm.forward(this.avgpool.forward(x))),
      stage('pool', [], (x) => F.flatten(x, 1)),
      stage('head', [this.classifier[2]], (x) => this.classifier[2].forward(x)),
    ];
  }

  get numClasses(): number { return (this.classifier[2] as Linear).outFeatures; }

  resetClassifier(numClasses: number): void {
    this.classifier[2] = new Linear((this.classifier[2] as Linear).inFeatures, numClasses);
  }
}

export const convnext_tiny = (cfg: ConvNeXtConfig = {}) =>
  new ConvNeXt([cn(96, 192, 3), cn(192, 384, 3), cn(384, 768, 9), cn(768, null, 3)], cfg.stochasticDepthProb ?? 0.1, cfg);
export const convnext_small = (cfg: ConvNeXtConfig = {}) =>
  new ConvNeXt([cn(96, 192, 3), cn(192, 384, 3), cn(384, 768, 27), cn(768, null, 3)], cfg.stochasticDepthProb ?? 0.4, cfg);
export const convnext_base = (cfg: ConvNeXtConfig = {}) =>
  new ConvNeXt([cn(128, 256, 3), cn(256, 512, 3), cn(512, 1024, 27), cn(1024, null, 3)], cfg.stochasticDepthProb ?? 0.5, cfg);
export const convnext_large = (cfg: ConvNeXtConfig = {}) =>
  new ConvNeXt([cn(192, 384, 3), cn(384, 768, 3), cn(768, 1536, 27), cn(1536, null, 3)], cfg.stochasticDepthProb ?? 0.5, cfg);
