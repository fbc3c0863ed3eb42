import type { Tensor } from '../graph/tensor.ts';
import { ShapeError } from '../graph/errors.ts';
import { currentScope } from '../graph/scope.ts';
import { Module, Conv2d, Linear, Sequential, Dropout, GELU, LayerNorm, MultiheadAttention, Parameter } from '../nn/index.ts';
import * as F from '../nn/functional.ts';
import { normals, truncatedNormals, xavierUniform } from '../nn/init.ts';
import { checkInteger, invalidParameter } from '../errors/index.ts';
import { stage, type Stage, type Staged } from './stages.ts';
import type { Preprocessing } from './catalog.ts';

/** torchvision's Vision Transformer (vision_transformer.py): same modules, attribute names and state-dict keys. */

const EPS = 1e-6;

/** torchvision's MLPBlock: Linear, GELU, Dropout, Linear, Dropout (keys mlp.0 and mlp.3), Xavier weights, tiny biases. */
export function mlpBlock(inDim: number, mlpDim: number, dropout: number): Sequential {
  const mlp = new Sequential(new Linear(inDim, mlpDim), new GELU(), new Dropout(dropout), new Linear(mlpDim, inDim), new Dropout(dropout));
  for (const m of mlp.children()) {
    if (m instanceof Linear) {
      m.weight.assign(xavierUniform(m.weight.shape));
      m.bias!.assign(normals(m.bias!.size, 0, 1e-6));
    }
  }
  return mlp;
}

/**
 * One transformer layer, pre-norm: x + attention(ln_1(x)), then that + mlp(ln_2(that)). With
 * `layerScale` (timm's LayerScale, DINOv2's blocks) each branch is scaled per feature first, by
 * `layer_scale_1` and `layer_scale_2`, which start at that value; torchvision's ViT has none.
 */
export class EncoderBlock extends Module {
  ln_1: LayerNorm;
  self_attention: MultiheadAttention;
  dropout: Dropout;
  ln_2: LayerNorm;
  mlp: Sequential;
  layer_scale_1: Parameter | null = null;
  layer_scale_2: Parameter | null = null;

  constructor(numHeads: number, hiddenDim: number, mlpDim: number, dropout: number, layerScale: number | null = null) {
    super();
    this.ln_1 = new LayerNorm(hiddenDim, { eps: EPS });
    this.self_attention = new MultiheadAttention(hiddenDim, numHeads);
    this.dropout = new Dropout(dropout);
    this.ln_2 = new LayerNorm(hiddenDim, { eps: EPS });
    this.mlp = mlpBlock(hiddenDim, mlpDim, dropout);
    if (layerScale !== null) {
      this.layer_scale_1 = new Parameter(new Float32Array(hiddenDim).fill(layerScale), [hiddenDim]);
      this.layer_scale_2 = new Parameter(new Float32Array(hiddenDim).fill(layerScale), [hiddenDim]);
    }
  }

  forward(input: Tensor): Tensor {
    const scaled = (y: Tensor, scale: Parameter | null) => (scale ? F.mul(y, scale) : y);
    const x = F.add(this.dropout.forward(scaled(this.self_attention.forward(this.ln_1.forward(input)), this.layer_scale_1)), input);
    return F.add(x, scaled(this.mlp.forward(this.ln_2.forward(x)), this.layer_scale_2));
  }
}

/** The position embedding, the layers and the final layer norm, as torchvision's Encoder holds them. */
export class Encoder extends Module {
  pos_embedding: Parameter;
  dropout: Dropout;
  layers: Sequential;
  ln: LayerNorm;

  constructor(seqLength: number, numLayers: number, numHeads: number, hiddenDim: number, mlpDim: number, dropout: number, layerScale: number | null = null) {
    super();
    this.pos_embedding = new Parameter(normals(seqLength * hiddenDim, 0, 0.02), [1, seqLength, hiddenDim]);
    this.dropout = new Dropout(dropout);
    this.layers = Sequential.named(Array.from({ length: numLayers }, (_, i) => [`encoder_layer_${i}`, new EncoderBlock(numHeads, hiddenDim, mlpDim, dropout, layerScale)] as const));
    this.ln = new LayerNorm(hiddenDim, { eps: EPS });
  }

  forward(x: Tensor): Tensor {
    return this.ln.forward(this.layers.forward(this.dropout.forward(F.add(x, this.pos_embedding))));
  }
}

/** A row of the builders' table: torchvision's arguments for each variant. */
export interface ViTVariant { patchSize: number; numLayers: number; numHeads: number; hiddenDim: number; mlpDim: number }

export const VIT_VARIANTS = {
  vit_b_16: { patchSize: 16, numLayers: 12, numHeads: 12, hiddenDim: 768, mlpDim: 3072 },
  vit_b_32: { patchSize: 32, numLayers: 12, numHeads: 12, hiddenDim: 768, mlpDim: 3072 },
  vit_l_16: { patchSize: 16, numLayers: 24, numHeads: 16, hiddenDim: 1024, mlpDim: 4096 },
  vit_l_32: { patchSize: 32, numLayers: 24, numHeads: 16, hiddenDim: 1024, mlpDim: 4096 },
  vit_h_14: { patchSize: 14, numLayers: 32, numHeads: 16, hiddenDim: 1280, mlpDim: 5120 },
} as const satisfies Record<string, ViTVariant>;

export interface ViTConfig {
  numClasses?: number;
  /** The square input it is built for (torchvision's image_size, default 224): it sets the position embeddings' length. */
  imageSize?: number;
  dropout?: number;
  attentionDropout?: number;
  /** timm's LayerScale (DINOv2): every block scales its two branches per feature, starting at this value. */
  layerScale?: number;
  /** Register tokens (DINOv2 with registers): learned tokens after the class token, `reg_token` [1, R, E]. */
  regTokens?: number;
  /**
   * The position embeddings cover the patches only and are added before the class and register
   * tokens are put in front (timm's no_embed_class); torchvision's include the class token's.
   */
  noEmbedClass?: boolean;
}

/**
 * The parameters of the first stage, grouped for the trainer: the patch projection, the class
 * (and register) tokens and the position embedding stay where torchvision keys them (`conv_proj`,
 * `class_token`, `encoder.pos_embedding`); this module only holds them together and runs the stem.
 */
class ViTStem extends Module {
  constructor(
    readonly conv_proj: Conv2d, readonly class_token: Parameter, readonly reg_token: Parameter | null, readonly pos_embedding: Parameter,
    private readonly embed: (x: Tensor) => Tensor,
  ) {
    super();
  }

  forward(x: Tensor): Tensor {
    return this.embed(x);
  }
}

export class VisionTransformer extends Module implements Staged {
  class_token: Parameter;
  reg_token: Parameter | null = null;
  conv_proj: Conv2d;
  encoder: Encoder;
  heads: Sequential;
  readonly imageSize: number;
  /** Tokens in the sequence: the class token, the register tokens and the patches. */
  readonly seqLength: number;
  /** Class and register tokens ahead of the patches. */
  readonly prefixTokens: number;
  readonly noEmbedClass: boolean;
  /** The preprocessing a checkpoint brings along (timm's pretrained_cfg); absent for torchvision's, whose catalog entries say it. */
  declare preprocessing?: Preprocessing;

  constructor(readonly variant: ViTVariant, cfg: ViTConfig = {}) {
    super();
    const { patchSize, numLayers, numHeads, hiddenDim, mlpDim } = variant;
    this.imageSize = checkInteger('imageSize', cfg.imageSize ?? 224, { min: patchSize });
    if (this.imageSize % patchSize !== 0) throw invalidParameter('imageSize', `a multiple of the patch size ${patchSize}`, this.imageSize);
    this.conv_proj = new Conv2d(3, hiddenDim, patchSize, { stride: patchSize });
    const fanIn = 3 * patchSize * patchSize;
    this.conv_proj.weight.assign(truncatedNormals(this.conv_proj.weight.size, 0, Math.sqrt(1 / fanIn), -2, 2));
    this.conv_proj.bias!.assign(new Float32Array(hiddenDim));
    this.class_token = new Parameter(new Float32Array(hiddenDim), [1, 1, hiddenDim]);
    const regTokens = checkInteger('regTokens', cfg.regTokens ?? 0, { min: 0 });
    if (regTokens > 0) this.reg_token = new Parameter(normals(regTokens * hiddenDim, 0, 1e-6), [1, regTokens, hiddenDim]);
    this.prefixTokens = 1 + regTokens;
    this.noEmbedClass = cfg.noEmbedClass ?? false;
    this.seqLength = (this.imageSize / patchSize) ** 2 + this.prefixTokens;
    const embedded = this.noEmbedClass ? this.seqLength - this.prefixTokens : this.seqLength;
    this.encoder = new Encoder(embedded, numLayers, numHeads, hiddenDim, mlpDim, cfg.dropout ?? 0, cfg.layerScale ?? null);
    if (cfg.attentionDropout) throw invalidParameter('attentionDropout', '0 (attention dropout is not offered)', cfg.attentionDropout);
    const head = new Linear(hiddenDim, cfg.numClasses ?? 1000);
    head.weight.assign(new Float32Array(head.weight.size));
    head.bias!.assign(new Float32Array(head.bias!.size));
    this.heads = Sequential.named([['head', head]]);
  }

  /**
   * The patches as tokens, the class (and register) tokens ahead of them, plus the position
   * embedding: [N, prefix + P, E]. The prefix tokens are zero-padded to the sequence's length and
   * the patches padded by zero rows in front, and the two added, instead of concatenating a copy
   * per sample: the same values (x + 0), and no size of the batch is baked into the graph.
   */
  embed(x: Tensor): Tensor {
    const [n, c, h, w] = x.shape;
    if (x.ndim !== 4 || c !== 3 || h !== this.imageSize || w !== this.imageSize) {
      throw new ShapeError('vision_transformer', currentScope(), `expected [batch, 3, ${this.imageSize}, ${this.imageSize}] images (the image size this ViT was built for)`, [x.shape]);
    }
    const e = this.variant.hiddenDim;
    const patches = this.conv_proj.forward(x);
    const numPatches = this.seqLength - this.prefixTokens;
    const tokens = F.permute(F.reshape(patches, [n, e, numPatches]), [0, 2, 1]);
    const prefix = this.reg_token ? F.cat([this.class_token, this.reg_token], 1) : this.class_token;
    const prefixRows = F.pad(prefix, [0, 0, 0, numPatches]);
    const front = (t: Tensor) => F.pad(t, [0, 0, this.prefixTokens, 0]);
    if (this.noEmbedClass) return F.add(front(F.add(tokens, this.encoder.pos_embedding)), prefixRows);
    return F.add(F.add(front(tokens), prefixRows), this.encoder.pos_embedding);
  }

  forward(x: Tensor): Tensor {
    return this.heads.forward(this.normalizedClassToken(this.encoder.layers.forward(this.encoder.dropout.forward(this.embed(x)))));
  }

  /** The class token's features after the final layer norm ([N, E]), which the head reads. */
  private normalizedClassToken(x: Tensor): Tensor {
    return this.encoder.ln.forward(F.reshape(F.narrow(x, 1, 0, 1), [x.shape[0], x.shape[2]]));
  }

  /**
   * The stem (patch projection, class token, position embedding), then each encoder layer, the
   * last one with the final layer norm and the class token taken as the embedding, then the head:
   * `--unfreeze N` trains the last N encoder layers. The final layer norm runs on the class token
   * alone, which is all torchvision reads of its output (it normalizes each token on its own).
   */
  stages(): Stage[] {
    const stem = new ViTStem(this.conv_proj, this.class_token, this.reg_token, this.encoder.pos_embedding, (x) => this.embed(x));
    const enc = this.encoder;
    const layers = [...enc.layers.namedChildren()];
    const last = layers.length - 1;
    return [
      stage('stem', [stem], (x) => enc.dropout.forward(stem.forward(x))),
      ...layers.map(([k, m], i) => i < last
        ? stage(`encoder.layers.${k}`, [m], (x) => m.forward(x))
        : stage(`encoder.layers.${k}`, [m, enc.ln], (x) => this.normalizedClassToken(m.forward(x)))),
      stage('pool', [], (x) => x),
      stage('head', [this.heads], (x) => this.heads.forward(x)),
    ];
  }

  /** torchvision's `heads.head`. */
  get head(): Linear { return (this.heads as unknown as { head: Linear }).head; }

  get numClasses(): number { return this.head.outFeatures; }

  resetClassifier(numClasses: number): void {
    (this.heads as unknown as { head: Linear }).head = new Linear(this.variant.hiddenDim, numClasses);
  }
}

const builder = (variant: ViTVariant) => (cfg: ViTConfig = {}) => new VisionTransformer(variant, cfg);

export const vit_b_16 = builder(VIT_VARIANTS.vit_b_16);
export const vit_b_32 = builder(VIT_VARIANTS.vit_b_32);
export const vit_l_16 = builder(VIT_VARIANTS.vit_l_16);
export const vit_l_32 = builder(VIT_VARIANTS.vit_l_32);
export const vit_h_14 = builder(VIT_VARIANTS.vit_h_14);
