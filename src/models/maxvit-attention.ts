import type { Tensor } from '../graph/tensor.ts';
import { ShapeError } from '../graph/errors.ts';
import { currentScope } from '../graph/scope.ts';
import { Module, Buffer, Parameter, Linear, LayerNorm, Sequential, Dropout, GELU, StochasticDepth } from '../nn/index.ts';
import * as F from '../nn/functional.ts';
import { truncatedNormals } from '../nn/init.ts';
import { invalidParameter, received } from '../errors/index.ts';
import { relativePositionBias, relativePositionIndex } from './relative-position.ts';

/**
 * MaxViT's attention half (torchvision's maxvit.py): relative-position multi-head attention over
 * partitions of a feature map, by windows (local) or by a grid (dilated, global), with the same
 * attribute names and state-dict keys.
 */

/**
 * Multi-head self-attention within each partition of x [B, G, P, D] (G partitions of P tokens),
 * softmax(q k^T / sqrt(D) + bias) v, the bias read from a learned table of one row per relative
 * offset through `relative_position_index`. As torchvision does, the keys are scaled, and by the
 * whole feature size rather than the head's.
 */
export class RelativePositionalMultiHeadAttention extends Module {
  relative_position_bias_table: Parameter;
  relative_position_index: Buffer;
  to_qkv: Linear;
  merge: Linear;
  readonly nHeads: number;
  readonly headDim: number;
  readonly maxSeqLen: number;
  /** The side of the square partition whose maxSeqLen cells attend to each other. */
  readonly partitionSize: number;

  constructor(featDim: number, headDim: number, maxSeqLen: number) {
    super();
    if (featDim % headDim !== 0) throw invalidParameter('headDim', `a divisor of the feature size ${featDim}`, headDim);
    const size = Math.round(Math.sqrt(maxSeqLen));
    if (size * size !== maxSeqLen) throw invalidParameter('maxSeqLen', 'a square number of tokens', maxSeqLen);
    this.nHeads = featDim / headDim;
    this.headDim = headDim;
    this.maxSeqLen = maxSeqLen;
    this.partitionSize = size;
    const rows = (2 * size - 1) ** 2;
    this.relative_position_bias_table = new Parameter(truncatedNormals(rows * this.nHeads, 0, 0.02, -2, 2), [rows, this.nHeads]);
    this.relative_position_index = new Buffer(relativePositionIndex(size), [maxSeqLen, maxSeqLen]);
    this.to_qkv = new Linear(featDim, 3 * featDim);
    this.merge = new Linear(featDim, featDim);
  }

  /** The bias of every head for every pair of positions, [1, heads, P, P]. */
  relativePositionalBias(): Tensor {
    const p = this.maxSeqLen;
    return F.reshape(relativePositionBias(this.relative_position_bias_table, this.relative_position_index, this.partitionSize), [1, this.nHeads, p, p]);
  }

  forward(x: Tensor): Tensor {
    if (x.ndim !== 4 || x.shape[2] !== this.maxSeqLen || x.shape[3] !== this.nHeads * this.headDim) {
      throw new ShapeError('relative_positional_attention', currentScope(),
        `expected [batch, partitions, ${this.maxSeqLen}, ${this.nHeads * this.headDim}] tokens`, [x.shape]);
    }
    const [b, g, p, d] = x.shape;
    const qkv = this.to_qkv.forward(x);
    const heads = (i: number) => F.permute(F.reshape(F.narrow(qkv, 3, i * d, d), [b, g, p, this.nHeads, this.headDim]), [0, 1, 3, 2, 4]);
    const q = heads(0);
    const k = F.mul(heads(1), d ** -0.5);
    const v = heads(2);
    const scores = F.add(F.matmul(q, F.transpose(k, -1, -2)), this.relativePositionalBias());
    const out = F.matmul(F.softmax(scores, -1), v);
    return this.merge.forward(F.reshape(F.permute(out, [0, 1, 3, 2, 4]), [b, g, p, d]));
  }
}

/** torchvision's WindowPartition: [B, C, H, W] to [B, (H/p)(W/p), p*p, C], the p x p windows in row-major order. */
export function windowPartition(x: Tensor, p: number): Tensor {
  const [b, c, h, w] = x.shape;
  const windows = F.permute(F.reshape(x, [b, c, h / p, p, w / p, p]), [0, 2, 4, 3, 5, 1]);
  return F.reshape(windows, [b, (h / p) * (w / p), p * p, c]);
}

/** torchvision's WindowDepartition, windowPartition's inverse for hp x wp windows of p x p. */
export function windowDepartition(x: Tensor, p: number, hp: number, wp: number): Tensor {
  const [b, , , c] = x.shape;
  const map = F.permute(F.reshape(x, [b, hp, wp, p, p, c]), [0, 5, 1, 3, 2, 4]);
  return F.reshape(map, [b, c, hp * p, wp * p]);
}

export interface PartitionAttentionConfig {
  inChannels: number;
  headDim: number;
  partitionSize: number;
  partitionType: 'window' | 'grid';
  /** The feature map's height and width, fixed when the layer is built. */
  gridSize: readonly [number, number];
  mlpRatio: number;
  attentionDropout: number;
  mlpDropout: number;
  stochasticDepthProb: number;
}

/**
 * Attention over partitions of the map, then an MLP, each pre-normed and added back (dropped per
 * sample by stochastic depth in training). 'window' attends within partitionSize x partitionSize
 * windows; 'grid' cuts the map into n x n cells (n = grid / partitionSize) and, with the two
 * partition axes swapped, attends across the partitionSize^2 cells sharing a position.
 */
export class PartitionAttentionLayer extends Module {
  attn_layer: Sequential;
  mlp_layer: Sequential;
  stochastic_dropout: StochasticDepth;
  /** The side of one partition as windowPartition cuts it. */
  readonly p: number;
  readonly partitionType: 'window' | 'grid';
  readonly gridSize: readonly [number, number];

  constructor(c: PartitionAttentionConfig) {
    super();
    if (c.partitionType !== 'window' && c.partitionType !== 'grid') throw invalidParameter('partitionType', "'window' or 'grid'", c.partitionType);
    const nPartitions = Math.floor(c.gridSize[0] / c.partitionSize);
    this.p = c.partitionType === 'window' ? c.partitionSize : nPartitions;
    if (c.gridSize[0] % this.p !== 0 || c.gridSize[1] % this.p !== 0) {
      throw invalidParameter('gridSize', `a multiple of the partition size ${this.p} on both sides`, received(c.gridSize.join(' x ')));
    }
    this.partitionType = c.partitionType;
    this.gridSize = c.gridSize;
    this.attn_layer = new Sequential(
      new LayerNorm(c.inChannels),
      // partitionSize^2 tokens either way: grid partitioning swaps the axes first.
      new RelativePositionalMultiHeadAttention(c.inChannels, c.headDim, c.partitionSize ** 2),
      new Dropout(c.attentionDropout),
    );
    this.mlp_layer = new Sequential(
      new LayerNorm(c.inChannels),
      new Linear(c.inChannels, c.inChannels * c.mlpRatio),
      new GELU(),
      new Linear(c.inChannels * c.mlpRatio, c.inChannels),
      new Dropout(c.mlpDropout),
    );
    this.stochastic_dropout = new StochasticDepth(c.stochasticDepthProb, 'row');
  }

  forward(input: Tensor): Tensor {
    const [gh, gw] = [this.gridSize[0] / this.p, this.gridSize[1] / this.p];
    if (input.ndim !== 4 || input.shape[2] !== this.gridSize[0] || input.shape[3] !== this.gridSize[1]) {
      throw new ShapeError('partition_attention', currentScope(), `expected [batch, channels, ${this.gridSize[0]}, ${this.gridSize[1]}] maps (the size this layer was built for)`, [input.shape]);
    }
    const swap = (t: Tensor) => (this.partitionType === 'grid' ? F.transpose(t, -2, -3) : t);
    let x = swap(windowPartition(input, this.p));
    x = F.add(x, this.stochastic_dropout.forward(this.attn_layer.forward(x)));
    x = F.add(x, this.stochastic_dropout.forward(this.mlp_layer.forward(x)));
    return windowDepartition(swap(x), this.p, gh, gw);
  }
}
