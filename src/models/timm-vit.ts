import type { StateDict } from '../nn/state-dict.ts';
import { VisionTransformer, type ViTConfig, type ViTVariant } from './vit.ts';
import { resamplePosEmbed } from './resample-pos-embed.ts';
import { unknownKeys, type TimmFamily } from './timm-config.ts';

/** One of timm's ViT architectures, by its `architecture` name in config.json, as graft builds it. */
interface TimmViT { variant: ViTVariant; options: Pick<ViTConfig, 'layerScale' | 'regTokens' | 'noEmbedClass'> }

const vit = (patchSize: number, hiddenDim: number, numLayers: number, numHeads: number, options: TimmViT['options'] = {}): TimmViT => ({
  variant: { patchSize, numLayers, numHeads, hiddenDim, mlpDim: 4 * hiddenDim }, options,
});
const DINOV2 = { layerScale: 1e-5 };
const DINOV2_REG4 = { layerScale: 1e-5, regTokens: 4, noEmbedClass: true };

/** timm's model_args for each architecture (timm/models/vision_transformer.py). */
export const TIMM_VIT_ARCHITECTURES: Readonly<Record<string, TimmViT>> = {
  vit_small_patch14_dinov2: vit(14, 384, 12, 6, DINOV2),
  vit_base_patch14_dinov2: vit(14, 768, 12, 12, DINOV2),
  vit_large_patch14_dinov2: vit(14, 1024, 24, 16, DINOV2),
  vit_small_patch14_reg4_dinov2: vit(14, 384, 12, 6, DINOV2_REG4),
  vit_base_patch14_reg4_dinov2: vit(14, 768, 12, 12, DINOV2_REG4),
  vit_large_patch14_reg4_dinov2: vit(14, 1024, 24, 16, DINOV2_REG4),
  vit_tiny_patch16_224: vit(16, 192, 12, 3),
  vit_small_patch16_224: vit(16, 384, 12, 6),
  vit_base_patch16_224: vit(16, 768, 12, 12),
  vit_large_patch16_224: vit(16, 1024, 24, 16),
  vit_small_patch32_224: vit(32, 384, 12, 6),
  vit_base_patch32_224: vit(32, 768, 12, 12),
};

/** Builds graft's VisionTransformer for a timm architecture, for `imageSize` inputs. */
export function buildTimmViT(architecture: string, imageSize: number, numClasses: number): VisionTransformer {
  const { variant, options } = TIMM_VIT_ARCHITECTURES[architecture];
  return new VisionTransformer(variant, { ...options, imageSize, numClasses: Math.max(numClasses, 1) });
}

const BLOCK_PARTS: Record<string, string> = {
  'norm1.weight': 'ln_1.weight', 'norm1.bias': 'ln_1.bias',
  'attn.qkv.weight': 'self_attention.in_proj_weight', 'attn.qkv.bias': 'self_attention.in_proj_bias',
  'attn.proj.weight': 'self_attention.out_proj.weight', 'attn.proj.bias': 'self_attention.out_proj.bias',
  'ls1.gamma': 'layer_scale_1', 'ls2.gamma': 'layer_scale_2',
  'norm2.weight': 'ln_2.weight', 'norm2.bias': 'ln_2.bias',
  'mlp.fc1.weight': 'mlp.0.weight', 'mlp.fc1.bias': 'mlp.0.bias', 'mlp.fc2.weight': 'mlp.3.weight', 'mlp.fc2.bias': 'mlp.3.bias',
};
const TOP: Record<string, string> = {
  cls_token: 'class_token', reg_token: 'reg_token', pos_embed: 'encoder.pos_embedding',
  'patch_embed.proj.weight': 'conv_proj.weight', 'patch_embed.proj.bias': 'conv_proj.bias',
  'norm.weight': 'encoder.ln.weight', 'norm.bias': 'encoder.ln.bias', 'head.weight': 'heads.head.weight', 'head.bias': 'heads.head.bias',
};

/** graft's key for one of timm's ViT keys (blocks.N.attn.qkv.weight -> encoder.layers.encoder_layer_N.self_attention.in_proj_weight), or null. */
export function graftKey(timmKey: string): string | null {
  const block = /^blocks\.(\d+)\.(.+)$/.exec(timmKey);
  if (block) {
    const part = BLOCK_PARTS[block[2]];
    return part ? `encoder.layers.encoder_layer_${block[1]}.${part}` : null;
  }
  return TOP[timmKey] ?? null;
}

/**
 * A timm ViT state dict under graft's keys, for `model`: every key mapped (an unknown one is
 * refused, naming it), the position embeddings resampled to the model's grid when the
 * checkpoint's differs (bicubic, antialiased, as timm does), and without a head when the
 * checkpoint has none (num_classes 0) so the model keeps its own.
 */
export function fromTimmStateDict(sd: StateDict, model: VisionTransformer, file: string): StateDict {
  const out: StateDict = new Map();
  const unknown: string[] = [];
  for (const [key, t] of sd) {
    const k = graftKey(key);
    if (k === null) { unknown.push(key); continue; }
    if (k === 'encoder.pos_embedding' && t.dtype === 'float32') {
      const prefix = model.noEmbedClass ? 0 : model.prefixTokens;
      const grid = Math.round(Math.sqrt(model.seqLength - model.prefixTokens));
      if (t.shape[1] !== model.encoder.pos_embedding.shape[1]) {
        out.set(k, { dtype: 'float32', shape: [1, prefix + grid * grid, t.shape[2]], data: resamplePosEmbed(t.data, t.shape, prefix, grid) });
        continue;
      }
    }
    out.set(k, t);
  }
  if (unknown.length) throw unknownKeys(file, 'ViT', unknown);
  return out;
}

export const TIMM_VIT: TimmFamily = {
  name: 'ViT',
  architectures: Object.keys(TIMM_VIT_ARCHITECTURES),
  pools: ['token'],
  poolMeaning: "the class token, the only pooling graft's ViT has",
  headPrefix: 'heads.',
  build: buildTimmViT,
  fromTimm: (sd, model, file) => fromTimmStateDict(sd, model as VisionTransformer, file),
};
