import type { Tensor } from '../graph/tensor.ts';
import { ShapeError } from '../graph/errors.ts';
import { currentScope } from '../graph/scope.ts';
import {
  Module, Conv2d, Linear, Sequential, AdaptiveAvgPool2d, Flatten, LayerNorm, Permute, StochasticDepth,
} from '../nn/index.ts';
import * as F from '../nn/functional.ts';
import { normals } from '../nn/init.ts';
import { checkNumber } from '../errors/index.ts';
import { stage, type Stage, type Staged } from './stages.ts';
import { mlpBlock } from './vit.ts';
import { ShiftedWindowAttention, ShiftedWindowAttentionV2 } from './swin-attention.ts';

/**
 * torchvision's Swin Transformer and Swin Transformer V2 (swin_transformer.py): same blocks,
 * attribute names and state-dict keys (the attention's index and coordinate buffers included,
 * which torchvision registers as persistent). Every map is channels-last, [B, H, W, C].
 */

/**
 * The 2 x 2 neighbourhoods of x [B, H, W, C] (padded to even sides) stacked along the channels,
 * in torchvision's order x[0::2, 0::2], x[1::2, 0::2], x[0::2, 1::2], x[1::2, 1::2]: [B, H/2, W/2, 4C].
 */
function mergePatches(x: Tensor): Tensor {
  const [b, h, w, c] = x.shape;
  const padded = h % 2 || w % 2 ? F.pad(x, [0, 0, 0, w % 2, 0, h % 2]) : x;
  const [h2, w2] = [(h + (h % 2)) / 2, (w + (w % 2)) / 2];
  return F.reshape(F.permute(F.reshape(padded, [b, h2, 2, w2, 2, c]), [0, 1, 3, 4, 2, 5]), [b, h2, w2, 4 * c]);
}

/** Swin's downsampling between stages: merged patches, layer norm, a linear map from 4C to 2C. */
export class PatchMerging extends Module {
  reduction: Linear;
  norm: LayerNorm;

  constructor(readonly dim: number) {
    super();
    this.reduction = new Linear(4 * dim, 2 * dim, { bias: false });
    this.norm = new LayerNorm(4 * dim);
  }

  forward(x: Tensor): Tensor {
    return this.reduction.forward(this.norm.forward(mergePatches(x)));
  }
}

/** Swin V2's: the linear map first, the layer norm after it (over 2C). */
export class PatchMergingV2 extends Module {
  reduction: Linear;
  norm: LayerNorm;

  constructor(readonly dim: number) {
    super();
    this.reduction = new Linear(4 * dim, 2 * dim, { bias: false });
    this.norm = new LayerNorm(2 * dim);
  }

  forward(x: Tensor): Tensor {
    return this.norm.forward(this.reduction.forward(mergePatches(x)));
  }
}

/** A block's arguments: its width, heads, window, the shift of its windows and its drop rate. */
interface BlockArgs { dim: number; heads: number; window: number; shift: number; stochasticDepthProb: number; dropout: number }

/**
 * One Swin block, pre-norm: x + drop(attn(norm1(x))), then + drop(mlp(norm2(x))). The one
 * stochastic-depth module drops each branch independently (torchvision's single module, run twice).
 */
export class SwinTransformerBlock extends Module {
  norm1: LayerNorm;
  attn: ShiftedWindowAttention | ShiftedWindowAttentionV2;
  stochastic_depth: StochasticDepth;
  norm2: LayerNorm;
  mlp: Sequential;

  constructor(a: BlockArgs, attention: typeof ShiftedWindowAttention | typeof ShiftedWindowAttentionV2 = ShiftedWindowAttention) {
    super();
    this.norm1 = new LayerNorm(a.dim);
    this.attn = new attention(a.dim, a.window, a.shift, a.heads, a.dropout);
    this.stochastic_depth = new StochasticDepth(a.stochasticDepthProb, 'row');
    this.norm2 = new LayerNorm(a.dim);
    this.mlp = mlpBlock(a.dim, 4 * a.dim, a.dropout);
  }

  forward(x: Tensor): Tensor {
    const y = F.add(x, this.stochastic_depth.forward(this.attn.forward(this.norm1.forward(x))));
    return F.add(y, this.stochastic_depth.forward(this.mlp.forward(this.norm2.forward(y))));
  }
}

/** Swin V2's block, post-norm: x + drop(norm1(attn(x))), then + drop(norm2(mlp(x))). */
export class SwinTransformerBlockV2 extends SwinTransformerBlock {
  constructor(a: BlockArgs) {
    super(a, ShiftedWindowAttentionV2);
  }

  override forward(x: Tensor): Tensor {
    const y = F.add(x, this.stochastic_depth.forward(this.norm1.forward(this.attn.forward(x))));
    return F.add(y, this.stochastic_depth.forward(this.norm2.forward(this.mlp.forward(y))));
  }
}

/** A row of the builders' table: torchvision's arguments for each variant (patch size 4 for all). */
export interface SwinVariant {
  embedDim: number; depths: readonly number[]; heads: readonly number[]; window: number;
  stochasticDepthProb: number; v2: boolean;
}

export const SWIN_VARIANTS = {
  swin_t: { embedDim: 96, depths: [2, 2, 6, 2], heads: [3, 6, 12, 24], window: 7, stochasticDepthProb: 0.2, v2: false },
  swin_s: { embedDim: 96, depths: [2, 2, 18, 2], heads: [3, 6, 12, 24], window: 7, stochasticDepthProb: 0.3, v2: false },
  swin_b: { embedDim: 128, depths: [2, 2, 18, 2], heads: [4, 8, 16, 32], window: 7, stochasticDepthProb: 0.5, v2: false },
  swin_v2_t: { embedDim: 96, depths: [2, 2, 6, 2], heads: [3, 6, 12, 24], window: 8, stochasticDepthProb: 0.2, v2: true },
  swin_v2_s: { embedDim: 96, depths: [2, 2, 18, 2], heads: [3, 6, 12, 24], window: 8, stochasticDepthProb: 0.3, v2: true },
  swin_v2_b: { embedDim: 128, depths: [2, 2, 18, 2], heads: [4, 8, 16, 32], window: 8, stochasticDepthProb: 0.5, v2: true },
} as const satisfies Record<string, SwinVariant>;

export interface SwinConfig { numClasses?: number; stochasticDepthProb?: number; dropout?: number }

const PATCH = 4;

export class SwinTransformer extends Module implements Staged {
  features: Sequential;
  norm: LayerNorm;
  permute = new Permute([0, 3, 1, 2]);
  avgpool = new AdaptiveAvgPool2d(1);
  flatten = new Flatten(1);
  head: Linear;
  readonly numFeatures: number;

  constructor(readonly variant: SwinVariant, cfg: SwinConfig = {}) {
    super();
    const { embedDim, depths, heads, window, v2 } = variant;
    const sdProb = checkNumber('stochasticDepthProb', cfg.stochasticDepthProb ?? variant.stochasticDepthProb, { min: 0, max: 1 });
    const dropout = checkNumber('dropout', cfg.dropout ?? 0, { min: 0, max: 1 });
    const layers: Module[] = [new Sequential(new Conv2d(3, embedDim, PATCH, { stride: PATCH }), new Permute([0, 2, 3, 1]), new LayerNorm(embedDim))];
    const total = depths.reduce((a, b) => a + b, 0);
    let blockId = 0;
    depths.forEach((depth, i) => {
      const dim = embedDim * 2 ** i;
      const blocks: Module[] = [];
      for (let j = 0; j < depth; j++, blockId++) {
        // Every other block shifts its windows by half a window; the drop rate grows linearly with depth.
        const a = { dim, heads: heads[i], window, shift: j % 2 === 0 ? 0 : Math.floor(window / 2), stochasticDepthProb: (sdProb * blockId) / (total - 1), dropout };
        blocks.push(v2 ? new SwinTransformerBlockV2(a) : new SwinTransformerBlock(a));
      }
      layers.push(new Sequential(...blocks));
      if (i < depths.length - 1) layers.push(v2 ? new PatchMergingV2(dim) : new PatchMerging(dim));
    });
    this.features = new Sequential(...layers);
    this.numFeatures = embedDim * 2 ** (depths.length - 1);
    this.norm = new LayerNorm(this.numFeatures);
    this.head = new Linear(this.numFeatures, cfg.numClasses ?? 1000);
    // trunc_normal_(std=0.02) truncates at +-2 absolute, 100 standard deviations: a plain normal.
    for (const m of this.modules()) {
      if (m instanceof Linear) {
        m.weight.assign(normals(m.weight.size, 0, 0.02));
        m.bias?.assign(new Float32Array(m.bias.size));
      }
    }
  }

  forward(x: Tensor): Tensor {
    return this.head.forward(this.pool(this.norm.forward(this.features.forward(this.checkInput(x)))));
  }

  private checkInput(x: Tensor): Tensor {
    if (x.ndim !== 4 || x.shape[1] !== 3 || x.shape[2] < PATCH || x.shape[3] < PATCH) {
      throw new ShapeError('swin_transformer', currentScope(), `expected [batch, 3, height, width] images of at least ${PATCH} x ${PATCH}`, [x.shape]);
    }
    return x;
  }

  /** The normalized channels-last map, averaged over its cells: [N, C]. */
  private pool(x: Tensor): Tensor {
    return this.flatten.forward(this.avgpool.forward(this.permute.forward(x)));
  }

  /**
   * The patch embedding, then each block, a stage's patch merging with its last block, the very
   * last block with the final layer norm; then the pooling and the head: `--unfreeze N` trains the
   * last N blocks.
   */
  stages(): Stage[] {
    const parts = [...this.features.children()];
    const stem = parts[0];
    const out: Stage[] = [stage('features.0', [stem], (x) => stem.forward(this.checkInput(x)))];
    for (let i = 1; i < parts.length; i += 2) {
      const blocks = [...(parts[i] as Sequential).children()];
      const merge = parts[i + 1] as Module | undefined;
      blocks.forEach((block, j) => {
        const name = `features.${i}.${j}`;
        if (j < blocks.length - 1) out.push(stage(name, [block], (x) => block.forward(x)));
        else if (merge) out.push(stage(name, [block, merge], (x) => merge.forward(block.forward(x))));
        else out.push(stage(name, [block, this.norm], (x) => this.norm.forward(block.forward(x))));
      });
    }
    out.push(stage('pool', [], (x) => this.pool(x)), stage('head', [this.head], (x) => this.head.forward(x)));
    return out;
  }

  get numClasses(): number { return this.head.outFeatures; }

  resetClassifier(numClasses: number): void {
    this.head = new Linear(this.numFeatures, numClasses);
  }
}

const builder = (variant: SwinVariant) => (cfg: SwinConfig = {}) => new SwinTransformer(variant, cfg);

export const swin_t = builder(SWIN_VARIANTS.swin_t);
export const swin_s = builder(SWIN_VARIANTS.swin_s);
export const swin_b = builder(SWIN_VARIANTS.swin_b);
export const swin_v2_t = builder(SWIN_VARIANTS.swin_v2_t);
export const swin_v2_s = builder(SWIN_VARIANTS.swin_v2_s);
export const swin_v2_b = builder(SWIN_VARIANTS.swin_v2_b);
