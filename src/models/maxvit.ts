import type { Tensor } from '../graph/tensor.ts';
import {
  Module, Conv2d, BatchNorm2d, Linear, LayerNorm, Sequential, AvgPool2d, AdaptiveAvgPool2d, Flatten, GELU, SiLU, Sigmoid, Tanh, Identity, StochasticDepth,
} from '../nn/index.ts';
import * as F from '../nn/functional.ts';
import { normals } from '../nn/init.ts';
import { checkInteger, checkNumber, invalidParameter, received } from '../errors/index.ts';
import { SqueezeExcitation } from './mobilenetv3.ts';
import { PartitionAttentionLayer } from './maxvit-attention.ts';
import { stage, type Stage, type Staged } from './stages.ts';

/** torchvision's MaxViT (maxvit.py): same blocks, same attribute names, same state-dict keys. */

/** torchvision's batch norm for MaxViT's convolutions: the paper's TensorFlow settings, in PyTorch's momentum convention. */
const BN = { eps: 1e-3, momentum: 0.99 };
const batchNorm = (channels: number) => new BatchNorm2d(channels, BN);
const gelu = () => new GELU();

/** A 3x3 (or 1x1) convolution without bias, batch norm, GELU: Conv2dNormActivation's keys 0, 1, 2. */
function convNormGelu(inp: number, out: number, kernel: number, stride = 1, groups = 1): Sequential {
  return new Sequential(
    new Conv2d(inp, out, kernel, { stride, padding: Math.floor((kernel - 1) / 2), groups, bias: false }),
    batchNorm(out),
    gelu(),
  );
}

/** A conv's output size at kernel 3, stride 2, padding 1 (torchvision's _get_conv_output_shape). */
const halved = (n: number) => Math.floor((n - 1) / 2) + 1;

/**
 * MaxViT's MBConv: pre-norm batch norm, 1x1 expansion, depthwise 3x3 (strided in a block's first
 * layer), squeeze-excitation with SiLU, 1x1 projection, dropped per sample by stochastic depth,
 * added to the input, itself projected by a 1x1 convolution (after a 3x3 average pool when the
 * stride is 2) where the shape changes.
 */
export class MaxVitMBConv extends Module {
  proj: Module;
  stochastic_depth: Module;
  layers: Sequential;

  constructor(inChannels: number, outChannels: number, expansionRatio: number, squeezeRatio: number, stride: number, stochasticDepthProb: number) {
    super();
    if (stride !== 1 && stride !== 2) throw invalidParameter('stride', '1 or 2', stride);
    if (stride !== 1 || inChannels !== outChannels) {
      const conv = new Conv2d(inChannels, outChannels, 1);
      this.proj = stride === 2 ? new Sequential(new AvgPool2d(3, { stride: 2, padding: 1 }), conv) : new Sequential(conv);
    } else {
      this.proj = new Identity();
    }
    const mid = Math.trunc(outChannels * expansionRatio);
    const squeezed = Math.trunc(outChannels * squeezeRatio);
    this.stochastic_depth = stochasticDepthProb ? new StochasticDepth(stochasticDepthProb, 'row') : new Identity();
    this.layers = Sequential.named([
      ['pre_norm', batchNorm(inChannels)],
      ['conv_a', convNormGelu(inChannels, mid, 1)],
      ['conv_b', convNormGelu(mid, mid, 3, stride, mid)],
      ['squeeze_excitation', new SqueezeExcitation(mid, squeezed, { activation: new SiLU(), scaleActivation: new Sigmoid() })],
      ['conv_c', new Conv2d(mid, outChannels, 1)],
    ]);
  }

  forward(x: Tensor): Tensor {
    return F.add(this.proj.forward(x), this.stochastic_depth.forward(this.layers.forward(x)));
  }
}

/** The arguments every layer of a MaxViT shares (torchvision's MaxVit constructor's, but the sizes). */
interface LayerConfig {
  squeezeRatio: number; expansionRatio: number; headDim: number; mlpRatio: number;
  mlpDropout: number; attentionDropout: number; partitionSize: number;
}

/** An MBConv, then attention within windows, then attention across the grid: keys layers.MBconv, layers.window_attention, layers.grid_attention. */
export class MaxVitLayer extends Module {
  layers: Sequential;

  constructor(inChannels: number, outChannels: number, stride: number, gridSize: readonly [number, number], stochasticDepthProb: number, c: LayerConfig) {
    super();
    const attention = (partitionType: 'window' | 'grid') => new PartitionAttentionLayer({
      inChannels: outChannels, headDim: c.headDim, partitionSize: c.partitionSize, partitionType, gridSize, mlpRatio: c.mlpRatio,
      attentionDropout: c.attentionDropout, mlpDropout: c.mlpDropout, stochasticDepthProb,
    });
    this.layers = Sequential.named([
      ['MBconv', new MaxVitMBConv(inChannels, outChannels, c.expansionRatio, c.squeezeRatio, stride, stochasticDepthProb)],
      ['window_attention', attention('window')],
      ['grid_attention', attention('grid')],
    ]);
  }

  forward(x: Tensor): Tensor {
    return this.layers.forward(x);
  }
}

/** One stage: its first layer halves the map (and changes the width), the others keep it. */
export class MaxVitBlock extends Module {
  layers: Sequential;
  /** The map size of this stage's layers. */
  readonly gridSize: readonly [number, number];

  constructor(inChannels: number, outChannels: number, inputGridSize: readonly [number, number], stochasticDepthProbs: readonly number[], c: LayerConfig) {
    super();
    this.gridSize = [halved(inputGridSize[0]), halved(inputGridSize[1])];
    this.layers = new Sequential(...stochasticDepthProbs.map((p, i) =>
      new MaxVitLayer(i === 0 ? inChannels : outChannels, outChannels, i === 0 ? 2 : 1, this.gridSize, p, c)));
  }

  forward(x: Tensor): Tensor {
    return this.layers.forward(x);
  }
}

/** torchvision's MaxVit constructor's arguments, by the same names in camelCase. */
export interface MaxVitConfig {
  /** The input the network is built for, [height, width] (square, as torchvision's grid attention needs) or its side: every block's map must divide by the partition size. */
  inputSize: number | readonly [number, number];
  stemChannels: number;
  partitionSize: number;
  blockChannels: readonly number[];
  blockLayers: readonly number[];
  headDim: number;
  stochasticDepthProb: number;
  squeezeRatio?: number;
  expansionRatio?: number;
  mlpRatio?: number;
  mlpDropout?: number;
  attentionDropout?: number;
  numClasses?: number;
}

/** numpy.linspace(0, end, n).tolist(): the stochastic depth probability of each layer, from 0 to end. */
function linspace(end: number, n: number): number[] {
  if (n === 1) return [0];
  const step = end / (n - 1);
  // numpy computes start + i * step and sets the last value to `end` exactly.
  return Array.from({ length: n }, (_, i) => (i === n - 1 ? end : i * step));
}

export class MaxVit extends Module implements Staged {
  stem: Sequential;
  blocks: Sequential;
  classifier: Sequential;
  readonly inputSize: readonly [number, number];
  readonly partitionSize: number;

  constructor(cfg: MaxVitConfig) {
    super();
    const size = typeof cfg.inputSize === 'number' ? [cfg.inputSize, cfg.inputSize] as const : cfg.inputSize;
    this.inputSize = [checkInteger('inputSize[0]', size[0], { min: 1 }), checkInteger('inputSize[1]', size[1], { min: 1 })];
    // torchvision builds a non-square MaxVit whose grid attention then fails: its partitions are counted on the height alone.
    if (this.inputSize[0] !== this.inputSize[1]) throw invalidParameter('inputSize', 'a square input (grid attention takes its partitions from the height)', received(this.inputSize.join(' x ')));
    const partitionSize = this.partitionSize = checkInteger('partitionSize', cfg.partitionSize, { min: 1 });
    const stemChannels = checkInteger('stemChannels', cfg.stemChannels, { min: 1 });
    const headDim = checkInteger('headDim', cfg.headDim, { min: 1 });
    const { blockChannels, blockLayers } = cfg;
    if (blockChannels.length === 0 || blockChannels.length !== blockLayers.length) {
      throw invalidParameter('blockLayers', `one layer count for each of the ${blockChannels.length} blocks`, received(`${blockLayers.length} counts`));
    }
    blockChannels.forEach((c, i) => {
      checkInteger(`blockChannels[${i}]`, c, { min: 1 });
      if (c % headDim !== 0) throw invalidParameter(`blockChannels[${i}]`, `a multiple of headDim ${headDim}`, c);
    });
    blockLayers.forEach((n, i) => checkInteger(`blockLayers[${i}]`, n, { min: 1 }));
    // Every block's map (after the stem's stride and its own) must split into whole partitions.
    let grid: [number, number] = [halved(this.inputSize[0]), halved(this.inputSize[1])];
    const blockGrids = blockChannels.map(() => (grid = [halved(grid[0]), halved(grid[1])]));
    blockGrids.forEach(([h, w], i) => {
      if (h % partitionSize !== 0 || w % partitionSize !== 0) {
        throw invalidParameter('inputSize', `an input whose block maps divide by the partition size ${partitionSize} (block ${i} gets ${h} x ${w}; blocks get ${blockGrids.map((g) => g.join(' x ')).join(', ')})`, received(this.inputSize.join(' x ')));
      }
    });
    const layerCfg: LayerConfig = {
      squeezeRatio: checkNumber('squeezeRatio', cfg.squeezeRatio ?? 0.25, { min: 0 }),
      expansionRatio: checkNumber('expansionRatio', cfg.expansionRatio ?? 4, { min: 0 }),
      headDim,
      mlpRatio: checkInteger('mlpRatio', cfg.mlpRatio ?? 4, { min: 1 }),
      mlpDropout: cfg.mlpDropout ?? 0,
      attentionDropout: cfg.attentionDropout ?? 0,
      partitionSize,
    };
    this.stem = new Sequential(
      convNormGelu(3, stemChannels, 3, 2),
      new Sequential(new Conv2d(stemChannels, stemChannels, 3, { padding: 1 })),
    );
    const probs = linspace(checkNumber('stochasticDepthProb', cfg.stochasticDepthProb, { min: 0, max: 1 }), blockLayers.reduce((a, b) => a + b, 0));
    const blocks: MaxVitBlock[] = [];
    let inputGrid: readonly [number, number] = [halved(this.inputSize[0]), halved(this.inputSize[1])];
    let first = 0;
    blockChannels.forEach((out, i) => {
      const block = new MaxVitBlock(i === 0 ? stemChannels : blockChannels[i - 1], out, inputGrid, probs.slice(first, first + blockLayers[i]), layerCfg);
      blocks.push(block);
      inputGrid = block.gridSize;
      first += blockLayers[i];
    });
    this.blocks = new Sequential(...blocks);
    const width = blockChannels[blockChannels.length - 1];
    this.classifier = new Sequential(
      new AdaptiveAvgPool2d(1),
      new Flatten(),
      new LayerNorm(width),
      new Linear(width, width),
      new Tanh(),
      new Linear(width, checkInteger('numClasses', cfg.numClasses ?? 1000, { min: 1 }), { bias: false }),
    );
    // torchvision's _init_weights; the relative position bias tables keep their truncated normal.
    for (const m of this.modules()) {
      if (m instanceof Conv2d || m instanceof Linear) {
        m.weight.assign(normals(m.weight.size, 0, 0.02));
        m.bias?.assign(new Float32Array(m.bias.size));
      }
    }
  }

  forward(x: Tensor): Tensor {
    return this.classifier.forward(this.blocks.forward(this.stem.forward(x)));
  }

  /** The embedding the head reads: pooled, flattened, layer-normed, through the first Linear and tanh ([N, C]). */
  private embedding(x: Tensor): Tensor {
    const c = this.classifier;
    for (let i = 0; i < 5; i++) x = c[i].forward(x);
    return x;
  }

  /**
   * The stem, then each MaxViT layer (the last with the classifier up to its tanh, which makes the
   * embedding), then the head, the classifier's last Linear: `--unfreeze N` trains the last N layers.
   */
  stages(): Stage[] {
    const layers = [...this.blocks.namedChildren()].flatMap(([b, block]) =>
      [...(block as MaxVitBlock).layers.namedChildren()].map(([l, layer]) => [`blocks.${b}.layers.${l}`, layer] as const));
    const last = layers.length - 1;
    const c = this.classifier;
    return [
      stage('stem', [this.stem], (x) => this.stem.forward(x)),
      ...layers.map(([name, layer], i) => i < last
        ? stage(name, [layer], (x) => layer.forward(x))
        : stage(name, [layer, c[2], c[3]], (x) => this.embedding(layer.forward(x)))),
      stage('pool', [], (x) => x),
      stage('head', [c[5]], (x) => this.head.forward(x)),
    ];
  }

  /** torchvision's `classifier[5]`, a Linear without bias. */
  get head(): Linear { return this.classifier[5] as Linear; }

  get numClasses(): number { return this.head.outFeatures; }

  /** A new `classifier.5`, without bias as torchvision's, so the state dict still loads into torchvision's MaxVit(num_classes=N). */
  resetClassifier(numClasses: number): void {
    this.classifier[5] = new Linear(this.head.inFeatures, numClasses, { bias: false });
  }
}

/** maxvit_t's options: the input it is built for (default 224) and the classes. */
export interface MaxVitTConfig { numClasses?: number; imageSize?: number; stochasticDepthProb?: number }

export const maxvit_t = (cfg: MaxVitTConfig = {}) => new MaxVit({
  inputSize: cfg.imageSize ?? 224, stemChannels: 64, blockChannels: [64, 128, 256, 512], blockLayers: [2, 2, 5, 2],
  headDim: 32, stochasticDepthProb: cfg.stochasticDepthProb ?? 0.2, partitionSize: 7, numClasses: cfg.numClasses,
});
