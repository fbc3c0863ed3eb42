import { invalidParameter, invalidType } from '../errors/index.ts';
import type { StateDict } from '../nn/state-dict.ts';
import type { Preprocessing } from './catalog.ts';
import type { Staged } from './stages.ts';

/** What graft reads of a timm config.json. */
export interface TimmConfig {
  architecture: string;
  /** As config.json gives it (timm's own default for the family when absent: null). */
  globalPool: string | null;
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
 * Reads timm's config.json (as its push_to_hub writes it): the architecture (whether graft builds
 * it is the caller's question), the pooling, the classes, and the preprocessing of pretrained_cfg:
 * resize to input / crop_pct, center crop to the input size, its interpolation, mean and std.
 */
export function parseTimmConfig(json: unknown, file: string): TimmConfig {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw invalidType(file, 'a JSON object', json);
  const cfg = json as Record<string, unknown>;
  const architecture = field(cfg, 'architecture', file);
  if (typeof architecture !== 'string') throw invalidType(`architecture in ${file}`, 'a string', architecture);
  const globalPool = cfg.global_pool ?? null;
  if (globalPool !== null && typeof globalPool !== 'string') throw invalidType(`global_pool in ${file}`, 'a string', globalPool);
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
    architecture, globalPool, numClasses, imageSize: h,
    preprocessing: { resizeSize: Math.floor(h / cropPct), cropSize: h, interpolation, mean: [m0, m1, m2], std: [s0, s1, s2] },
  };
}

/** The preprocessing for another input size: the same crop fraction, means and interpolation. */
export function preprocessingAt(p: Preprocessing, imageSize: number): Preprocessing {
  return { ...p, resizeSize: Math.floor((imageSize * p.resizeSize) / p.cropSize), cropSize: imageSize };
}

/** A model graft builds from a timm checkpoint: staged for training, with the checkpoint's preprocessing. */
export type HubModel = Staged & { preprocessing?: Preprocessing };

/**
 * One family of timm architectures that graft builds with a module of its own: the names it
 * covers, timm's pooling for them, how to build one, and how timm's state-dict keys map onto it.
 */
export interface TimmFamily {
  /** What messages call it: "ViT". */
  readonly name: string;
  readonly architectures: readonly string[];
  /** The global_pool values graft computes for it, the first being timm's default, with what that pooling is. */
  readonly pools: readonly string[];
  readonly poolMeaning: string;
  build(architecture: string, imageSize: number, numClasses: number): HubModel;
  /** The checkpoint under graft's keys, for `model`; an unknown key is refused, naming it. */
  fromTimm(sd: StateDict, model: HubModel, file: string): StateDict;
  /** graft's keys of the last Linear, kept from the new model when the checkpoint has no head (num_classes 0). */
  readonly headPrefix: string;
}

/** The message for keys a mapping does not know. */
export function unknownKeys(file: string, family: string, keys: readonly string[]): RangeError {
  return new RangeError(`${file}: keys graft's ${family} does not have: ${keys.slice(0, 8).join(', ')}${keys.length > 8 ? `, and ${keys.length - 8} more` : ''}`);
}
