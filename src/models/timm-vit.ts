import type { StateDict } from '../nn/state-dict.ts';
import { invalidParameter, invalidType } from '../errors/index.ts';
import type { Preprocessing } from './catalog.ts';
import { VisionTransformer, type ViTConfig, type ViTVariant } from './vit.ts';
import { resamplePosEmbed } from './resample-pos-embed.ts';

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

/** What graft reads of a timm config.json. */
export interface TimmConfig {
  architecture: string;
  numClasses: number;
  /** The checkpoint's input size (pretrained_cfg.input_size), square. */
  imageSize: number;
  preprocessing: Preprocessing;
}

function field(obj: Record<string, unknown>, key: string, file: string): unknown {
  if (!(key in obj)) throw invalidParameter(`${key} in ${file}`, 'a value', undefined);
  return obj[key];
}

function numbers(v: unknown, n: number, what: string): number[] {
  if (!Array.isArray(v) || v.length !== n || !v.every((x) => typeof x === 'number' && Number.isFinite(x))) throw invalidType(what, `${n} numbers`, v);
  return v as number[];
}

/**
 * Reads timm's config.json (as its push_to_hub writes it): the architecture, which must be one
 * graft builds, the classes, and the preprocessing of pretrained_cfg: resize to input / crop_pct,
 * center crop to the input size, its interpolation, mean and std.
 */
export function parseTimmConfig(json: unknown, file: string): TimmConfig {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw invalidType(file, 'a JSON object', json);
  const cfg = json as Record<string, unknown>;
  const architecture = field(cfg, 'architecture', file);
  if (typeof architecture !== 'string') throw invalidType(`architecture in ${file}`, 'a string', architecture);
  if (!(architecture in TIMM_VIT_ARCHITECTURES)) {
    throw new RangeError(`${file}: graft has no architecture "${architecture}"; it builds timm's ${Object.keys(TIMM_VIT_ARCHITECTURES).join(', ')}`);
  }
  const pool = cfg.global_pool ?? 'token';
  if (pool !== 'token') throw invalidParameter(`global_pool in ${file}`, "'token' (the class token, the only pooling graft's ViT has)", pool);
  const numClasses = field(cfg, 'num_classes', file);
  if (typeof numClasses !== 'number' || !Number.isInteger(numClasses) || numClasses < 0) throw invalidType(`num_classes in ${file}`, 'an integer >= 0', numClasses);
  const pre = field(cfg, 'pretrained_cfg', file) as Record<string, unknown>;
  if (typeof pre !== 'object' || pre === null) throw invalidType(`pretrained_cfg in ${file}`, 'an object', pre);
  const [, h, w] = numbers(field(pre, 'input_size', file), 3, `pretrained_cfg.input_size in ${file}`);
  if (h !== w) throw invalidParameter(`pretrained_cfg.input_size in ${file}`, 'a square input', `${h} x ${w}`);
  const interpolation = pre.interpolation ?? 'bicubic';
  if (interpolation !== 'bicubic' && interpolation !== 'bilinear') throw invalidParameter(`pretrained_cfg.interpolation in ${file}`, "'bicubic' or 'bilinear'", interpolation);
  const cropPct = pre.crop_pct ?? 0.875;
  if (typeof cropPct !== 'number' || !(cropPct > 0 && cropPct <= 1)) throw invalidType(`pretrained_cfg.crop_pct in ${file}`, 'a number in (0, 1]', cropPct);
  const [m0, m1, m2] = numbers(pre.mean ?? [0.485, 0.456, 0.406], 3, `pretrained_cfg.mean in ${file}`);
  const [s0, s1, s2] = numbers(pre.std ?? [0.229, 0.224, 0.225], 3, `pretrained_cfg.std in ${file}`);
  return {
    architecture, numClasses, imageSize: h,
    preprocessing: { resizeSize: Math.floor(h / cropPct), cropSize: h, interpolation, mean: [m0, m1, m2], std: [s0, s1, s2] },
  };
}

/** The preprocessing for another input size: the same crop fraction, means and interpolation. */
export function preprocessingAt(p: Preprocessing, imageSize: number): Preprocessing {
  return { ...p, resizeSize: Math.floor((imageSize * p.resizeSize) / p.cropSize), cropSize: imageSize };
}

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
  if (unknown.length) throw new RangeError(`${file}: keys graft's ViT does not have: ${unknown.slice(0, 8).join(', ')}${unknown.length > 8 ? `, and ${unknown.length - 8} more` : ''}`);
  return out;
}
