/**
 * Deterministic weights and inputs for golden tests, bit-for-bit equal to scripts/deterministic.py.
 *
 * Real pretrained weights are too big to commit, so golden outputs are produced with weights both
 * sides compute from a state dict's keys and shapes alone (the rules are spelled out in
 * scripts/deterministic.py). Values are computed in float64 and stored as float32, so both
 * languages round the same doubles the same way.
 */
import { numel } from '../../src/graph/tensor.ts';
import type { StateDict } from '../../src/nn/state-dict.ts';

const TWO_POW_32 = 4294967296;

/** The hash before scaling: a uint32 from a flat index and a seed. */
function hashU32(i: number, seedTerm: number): number {
  let h = (Math.imul(i, 0x9e3779b1) + seedTerm) >>> 0;
  h ^= h >>> 15;
  h = Math.imul(h, 0x2c1b3c6d);
  h ^= h >>> 12;
  h = Math.imul(h, 0x297a2d39);
  h ^= h >>> 15;
  return h >>> 0;
}

/** A uniform value in [0, 1) for flat index `i` (0 <= i < 2^32) and `seed` (0 <= seed < 2^32). */
export function hash01(i: number, seed: number): number {
  return hashU32(i, Math.imul(seed, 0x85ebca77)) / TWO_POW_32;
}

/** n float32 values f(u_i), u_i = hash01(i, seed). */
function fill(n: number, seed: number, f: (u: number) => number): Float32Array {
  const out = new Float32Array(n);
  const seedTerm = Math.imul(seed, 0x85ebca77);
  for (let i = 0; i < n; i++) out[i] = f(hashU32(i, seedTerm) / TWO_POW_32);
  return out;
}

type Rule = null | 'computed' | ((u: number) => number);

/**
 * Buffers a module computes from its configuration (windowed attention's index grid and offsets
 * table): no drawn value fits them, so the deterministic state dict leaves them out and a model
 * keeps its own (see `withOwnBuffers`).
 */
const COMPUTED = /(relative_position_index|relative_coords_table)$/;

function rule(key: string, shape: readonly number[]): Rule {
  if (COMPUTED.test(key)) return 'computed';
  if (key.endsWith('num_batches_tracked')) return null;
  if (key.endsWith('running_var')) return (u) => 0.5 + u;
  if (key.endsWith('running_mean') || key.endsWith('bias')) return (u) => (u - 0.5) * 0.2;
  if (key.endsWith('weight')) {
    if (shape.length === 1) return (u) => 0.5 + u;
    if (shape.length >= 2) {
      const scale = Math.sqrt(3 / numel(shape.slice(1)));
      return (u) => (u - 0.5) * 2 * scale;
    }
  }
  if (key.endsWith('layer_scale')) return (u) => 0.5 + u;
  // Vision transformers' learned tokens and position embeddings, and timm's LayerScale.
  if (/(class_token|cls_token|reg_token|pos_embedding|pos_embed)$/.test(key)) return (u) => (u - 0.5) * 2;
  if (key.endsWith('gamma')) return (u) => 0.5 + u;
  // Windowed attention: the relative position bias table, and Swin V2's per-head log temperature
  // over [1, 3) (temperatures up to 20, around its initial 10; nearer the clamp at 100 the softmax
  // saturates and float32 rounding alone moves the logits by 1e-4; the clamp itself has the op
  // test cosine_attention_scores).
  if (key.endsWith('relative_position_bias_table')) return (u) => (u - 0.5) * 2;
  if (key.endsWith('logit_scale')) return (u) => 1 + 2 * u;
  throw new RangeError(
    `deterministicStateDict: no rule for key '${key}' with shape [${shape.join(', ')}]`,
  );
}

/** The relative position index of the square s x s window whose (s^2)^2 entries `shape` holds, as torchvision computes it. */
function relativePositionIndex(shape: readonly number[]): BigInt64Array {
  const n = numel(shape);
  const s = Math.round(n ** 0.25);
  if (s ** 4 !== n) throw new RangeError(`relative_position_index: [${shape.join(', ')}] does not hold the (s^2)^2 entries of a square window`);
  const out = new BigInt64Array(n);
  for (let f = 0; f < n; f++) {
    const [i, j] = [Math.floor(f / (s * s)), f % (s * s)];
    out[f] = BigInt((Math.floor(i / s) - Math.floor(j / s) + s - 1) * (2 * s - 1) + (i % s) - (j % s) + s - 1);
  }
  return out;
}

/**
 * A state dict whose values depend only on the keys, their order and their shapes. The seed of
 * each entry is its index in `entries`, so the order must be the state dict's own.
 */
export function deterministicStateDict(
  entries: Iterable<readonly [string, readonly number[]]>,
): StateDict {
  const sd: StateDict = new Map();
  let seed = 0;
  for (const [key, shape] of entries) {
    if (key.endsWith('relative_position_index')) {
      sd.set(key, { dtype: 'int64', shape: [...shape], data: relativePositionIndex(shape) });
      seed++;
      continue;
    }
    const f = rule(key, shape);
    const n = numel(shape);
    if (f === 'computed') {
      // left out; the seed still advances, so later entries keep theirs
    } else if (f === null) {
      sd.set(key, { dtype: 'int64', shape: [...shape], data: new BigInt64Array(n) });
    } else {
      sd.set(key, { dtype: 'float32', shape: [...shape], data: fill(n, seed, f) });
    }
    seed++;
  }
  return sd;
}

/** `sd` with the module's own computed buffers (COMPUTED) added, for a strict load of a deterministic state dict. */
export function withOwnBuffers(own: StateDict, sd: StateDict): StateDict {
  return new Map([...own].filter(([k]) => COMPUTED.test(k) || sd.has(k)).map(([k, v]) => [k, sd.get(k) ?? v]));
}

/** An input tensor's data: (hash01(i, seed) - 0.5) * 4 for each flat index i. */
export function deterministicInput(shape: readonly number[], seed = 12345): Float32Array {
  return fill(numel(shape), seed, (u) => (u - 0.5) * 4);
}
