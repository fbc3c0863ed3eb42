import type { Tensor } from '../graph/tensor.ts';
import { ShapeError } from '../graph/errors.ts';
import { currentScope } from '../graph/scope.ts';
import { Module, Conv2d, Linear, Sequential, Dropout, GELU, LayerNorm, MultiheadAttention, Parameter } from '../nn/index.ts';
import * as F from '../nn/functional.ts';
import { normals, truncatedNormals, xavierUniform } from '../nn/init.ts';
import { checkInteger, invalidParameter } from '../errors/index.ts';
import { stage, type Stage, type Staged } from './stages.ts';

/** torchvision's Vision Transformer (vision_transformer.py): same modules, attribute names and state-dict keys. */

const EPS = 1e-6;

/** torchvision's MLPBlock: Linear, GELU, Dropout, Linear, Dropout (keys mlp.0 and mlp.3), Xavier weights, tiny biases. */
function mlpBlock(inDim: number, mlpDim: number, dropout: number): Sequential {
  const mlp = new Sequential(new Linear(inDim, mlpDim), new GELU(), new Dropout(dropout), new Linear(mlpDim, inDim), new Dropout(dropout));
  for (const m of mlp.children()) {
    if (m instanceof Linear) {
      m.weight.assign(xavierUniform(m.weight.shape));
      m.bias!.assign(normals(m.bias!.size, 0, 1e-6));
    }
  }
  return mlp;
}

/** One transformer layer, pre-norm: x + attention(ln_1(x)), then that + mlp(ln_2(that)). */
export class EncoderBlock extends Module {
  ln_1: LayerNorm;
  self_attention: MultiheadAttention;
  dropout: Dropout;
  ln_2: LayerNorm;
  mlp: Sequential;

  constructor(numHeads: number, hiddenDim: number, mlpDim: number, dropout: number) {
    super();
    this.ln_1 = new LayerNorm(hiddenDim, { eps: EPS });
    this.self_attention = new MultiheadAttention(hiddenDim, numHeads);
    this.dropout = new Dropout(dropout);
    this.ln_2 = new LayerNorm(hiddenDim, { eps: EPS });
    this.mlp = mlpBlock(hiddenDim, mlpDim, dropout);
  }

  forward(input: Tensor): Tensor {
    const x = F.add(this.dropout.forward(this.self_attention.forward(this.ln_1.forward(input))), input);
    return F.add(x, this.mlp.forward(this.ln_2.forward(x)));
  }
}

/** The position embedding, the layers and the final layer norm, as torchvision's Encoder holds them. */
export class Encoder extends Module {
  pos_embedding: Parameter;
  dropout: Dropout;
  layers: Sequential;
  ln: LayerNorm;

  constructor(seqLength: number, numLayers: number, numHeads: number, hiddenDim: number, mlpDim: number, dropout: number) {
    super();
    this.pos_embedding = new Parameter(normals(seqLength * hiddenDim, 0, 0.02), [1, seqLength, hiddenDim]);
    this.dropout = new Dropout(dropout);
    this.layers = Sequential.named(Array.from({ length: numLayers }, (_, i) => [`encoder_layer_${i}`, new EncoderBlock(numHeads, hiddenDim, mlpDim, dropout)] as const));
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
}

/**
 * The parameters of the first stage, grouped for the trainer: the patch projection, the class
 * token and the position embedding stay where torchvision keys them (`conv_proj`, `class_token`,
 * `encoder.pos_embedding`); this module only holds them together and runs the stem.
 */
class ViTStem extends Module {
  constructor(readonly conv_proj: Conv2d, readonly class_token: Parameter, readonly pos_embedding: Parameter, private readonly embed: (x: Tensor) => Tensor) {
    super();
  }

  forward(x: Tensor): Tensor {
    return this.embed(x);
  }
}

export class VisionTransformer extends Module implements Staged {
  class_token: Parameter;
  conv_proj: Conv2d;
  encoder: Encoder;
  heads: Sequential;
  readonly imageSize: number;
  readonly seqLength: number;

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
    this.seqLength = (this.imageSize / patchSize) ** 2 + 1;
    this.encoder = new Encoder(this.seqLength, numLayers, numHeads, hiddenDim, mlpDim, cfg.dropout ?? 0);
    if (cfg.attentionDropout) throw invalidParameter('attentionDropout', '0 (attention dropout is not offered)', cfg.attentionDropout);
    const head = new Linear(hiddenDim, cfg.numClasses ?? 1000);
    head.weight.assign(new Float32Array(head.weight.size));
    head.bias!.assign(new Float32Array(head.bias!.size));
    this.heads = Sequential.named([['head', head]]);
  }

  /**
   * The patches as tokens, the class token ahead of them, plus the position embedding: [N, 1 + P, E].
   * The class token is zero-padded to the sequence's length and the patches padded by one zero row
   * in front, and the two added, instead of concatenating a copy per sample: the same values
   * (x + 0), and no size of the batch is baked into the graph.
   */
  embed(x: Tensor): Tensor {
    const [n, c, h, w] = x.shape;
    if (x.ndim !== 4 || c !== 3 || h !== this.imageSize || w !== this.imageSize) {
      throw new ShapeError('vision_transformer', currentScope(), `expected [batch, 3, ${this.imageSize}, ${this.imageSize}] images (the image size this ViT was built for)`, [x.shape]);
    }
    const e = this.variant.hiddenDim;
    const patches = this.conv_proj.forward(x);
    const tokens = F.permute(F.reshape(patches, [n, e, this.seqLength - 1]), [0, 2, 1]);
    const classRow = F.pad(this.class_token, [0, 0, 0, this.seqLength - 1]);
    return F.add(F.add(F.pad(tokens, [0, 0, 1, 0]), classRow), this.encoder.pos_embedding);
  }

  forward(x: Tensor): Tensor {
    return this.heads.forward(this.classToken(this.encoder.layers.forward(this.encoder.dropout.forward(this.embed(x))), true));
  }

  /** The class token's features after the final layer norm ([N, E]), which the head reads. */
  private classToken(x: Tensor, normalize: boolean): Tensor {
    const first = F.reshape(F.narrow(x, 1, 0, 1), [x.shape[0], x.shape[2]]);
    return normalize ? this.encoder.ln.forward(first) : first;
  }

  /**
   * The stem (patch projection, class token, position embedding), then each encoder layer, the
   * last one with the final layer norm and the class token taken as the embedding, then the head:
   * `--unfreeze N` trains the last N encoder layers. The final layer norm runs on the class token
   * alone, which is all torchvision reads of its output (it normalizes each token on its own).
   */
  stages(): Stage[] {
    const stem = new ViTStem(this.conv_proj, this.class_token, this.encoder.pos_embedding, (x) => this.embed(x));
    const enc = this.encoder;
    const layers = [...enc.layers.namedChildren()];
    const last = layers.length - 1;
    return [
      stage('stem', [stem], (x) => enc.dropout.forward(stem.forward(x))),
      ...layers.map(([k, m], i) => i < last
        ? stage(`encoder.layers.${k}`, [m], (x) => m.forward(x))
        : stage(`encoder.layers.${k}`, [m, enc.ln], (x) => this.classToken(m.forward(x), true))),
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
