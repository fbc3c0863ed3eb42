import { constant, type Tensor } from '../graph/tensor.ts';
import { Module, Linear, ReLU, Sequential, Buffer, Parameter } from '../nn/index.ts';
import * as F from '../nn/functional.ts';
import { normals } from '../nn/init.ts';
import { relativePositionBias, relativePositionIndex } from './relative-position.ts';

/**
 * torchvision's shifted-window attention (swin_transformer.py): ShiftedWindowAttention (Swin) and
 * ShiftedWindowAttentionV2 (Swin V2), with their parameters, buffers and state-dict keys. Every
 * reshape keeps the batch as its first axis, so an exported graph runs at other batch sizes.
 */

/** Where Python's slice [start:end] falls on an axis of n cells (negative ends count from the end, null is the end). */
function span(start: number, end: number | null, n: number): [number, number] {
  const at = (i: number) => Math.min(n, i < 0 ? Math.max(0, n + i) : i);
  return [at(start), end === null ? n : at(end)];
}

/**
 * The mask added to shifted windows' attention scores: after the cyclic shift a window holds
 * cells from up to four regions of the map, and a cell attends only within its own (-100
 * elsewhere). torchvision's construction, regions numbered over (pH, pW) and read per window:
 * [windows, 1, N, N], a constant of the padded map's size, the window and the shift.
 */
function shiftMask(pH: number, pW: number, window: number, shift: [number, number]): Tensor {
  const regions = new Int32Array(pH * pW);
  const slices = (s: number) => [[0, -window], [-window, -s], [-s, null]] as const;
  let count = 0;
  for (const [h0, h1] of slices(shift[0])) {
    for (const [w0, w1] of slices(shift[1])) {
      const [r0, r1] = span(h0, h1, pH);
      const [c0, c1] = span(w0, w1, pW);
      for (let r = r0; r < r1; r++) regions.fill(count, r * pW + c0, r * pW + Math.max(c0, c1));
      count++;
    }
  }
  const [rows, cols, n] = [pH / window, pW / window, window * window];
  const mask = new Float32Array(rows * cols * n * n);
  for (let wr = 0; wr < rows; wr++) {
    for (let wc = 0; wc < cols; wc++) {
      const base = (wr * cols + wc) * n * n;
      const id = (p: number) => regions[(wr * window + Math.floor(p / window)) * pW + wc * window + (p % window)];
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) mask[base + i * n + j] = id(i) === id(j) ? 0 : -100;
    }
  }
  return constant(mask, [rows * cols, 1, n, n]);
}

export interface WindowAttentionArgs {
  qkvWeight: Tensor; qkvBias: Tensor | null; projWeight: Tensor; projBias: Tensor | null;
  /** [heads, N, N] for N = window * window. */
  relativePositionBias: Tensor;
  window: number; heads: number; shift: number;
  /** Swin V2's per-head temperature of cosine attention, [heads, 1, 1]; null for Swin's scaled dot product. */
  logitScale: Tensor | null;
  dropout: number; training: boolean;
}

/**
 * torchvision's shifted_window_attention on x [B, H, W, C]: pads the map to multiples of the
 * window, shifts it cyclically (not where the window covers the padded map), attends within each
 * window with the relative position bias (and the shift mask), and undoes all of that.
 */
export function shiftedWindowAttention(x: Tensor, a: WindowAttentionArgs): Tensor {
  const [b, h, w, c] = x.shape;
  const ws = a.window;
  const padR = (ws - (w % ws)) % ws;
  const padB = (ws - (h % ws)) % ws;
  const [pH, pW] = [h + padB, w + padR];
  const shift: [number, number] = [ws >= pH ? 0 : a.shift, ws >= pW ? 0 : a.shift];
  const shifted = shift[0] + shift[1] > 0;
  let t = padR || padB ? F.pad(x, [0, 0, 0, padR, 0, padB]) : x;
  if (shifted) t = F.roll(F.roll(t, -shift[0], 1), -shift[1], 2);

  const [rows, cols, n, d] = [pH / ws, pW / ws, ws * ws, c / a.heads];
  const windows = F.reshape(F.permute(F.reshape(t, [b, rows, ws, cols, ws, c]), [0, 1, 3, 2, 4, 5]), [b, rows * cols, n, c]);
  let qkvBias = a.qkvBias;
  if (a.logitScale !== null && qkvBias !== null) {
    // Swin V2 has no key bias: the middle third of qkv's bias is zeroed in every forward.
    const keep = new Float32Array(3 * c).fill(1).fill(0, c, 2 * c);
    qkvBias = F.mul(qkvBias, constant(keep, [3 * c]));
  }
  const qkv = F.permute(F.reshape(F.linear(windows, a.qkvWeight, qkvBias), [b, rows * cols, n, 3, a.heads, d]), [0, 3, 1, 4, 2, 5]);
  const part = (i: number) => F.reshape(F.narrow(qkv, 1, i, 1), [b, rows * cols, a.heads, n, d]);
  const [q, k, v] = [part(0), part(1), part(2)];
  let attn: Tensor;
  if (a.logitScale !== null) {
    const cosine = F.matmul(F.normalize(q, -1), F.transpose(F.normalize(k, -1), -2, -1));
    attn = F.mul(cosine, F.exp(F.clamp(a.logitScale, -Infinity, Math.log(100))));
  } else {
    attn = F.matmul(F.mul(q, d ** -0.5), F.transpose(k, -2, -1));
  }
  attn = F.add(attn, a.relativePositionBias);
  if (shifted) attn = F.add(attn, shiftMask(pH, pW, ws, shift));
  const attended = F.reshape(F.permute(F.matmul(F.softmax(attn, -1), v), [0, 1, 3, 2, 4]), [b, rows * cols, n, c]);
  const projected = F.dropout(F.linear(attended, a.projWeight, a.projBias), a.dropout, a.training);

  let out = F.reshape(F.permute(F.reshape(projected, [b, rows, cols, ws, ws, c]), [0, 1, 3, 2, 4, 5]), [b, pH, pW, c]);
  if (shifted) out = F.roll(F.roll(out, shift[0], 1), shift[1], 2);
  if (padB) out = F.narrow(out, 1, 0, h);
  if (padR) out = F.narrow(out, 2, 0, w);
  return out;
}

/** Window self-attention with a learned relative position bias per head (Swin). */
export class ShiftedWindowAttention extends Module {
  relative_position_bias_table: Parameter;
  relative_position_index: Buffer;
  qkv: Linear;
  proj: Linear;

  constructor(dim: number, readonly window: number, readonly shift: number, readonly numHeads: number, readonly dropout = 0) {
    super();
    const rows = (2 * window - 1) ** 2;
    this.relative_position_bias_table = new Parameter(normals(rows * numHeads, 0, 0.02), [rows, numHeads]);
    this.relative_position_index = new Buffer(relativePositionIndex(window), [window ** 4]);
    this.qkv = new Linear(dim, 3 * dim);
    this.proj = new Linear(dim, dim);
  }

  forward(x: Tensor): Tensor {
    return shiftedWindowAttention(x, {
      qkvWeight: this.qkv.weight, qkvBias: this.qkv.bias, projWeight: this.proj.weight, projBias: this.proj.bias,
      relativePositionBias: relativePositionBias(this.relative_position_bias_table, this.relative_position_index, this.window),
      window: this.window, heads: this.numHeads, shift: this.shift, logitScale: null, dropout: this.dropout, training: this.training,
    });
  }

  protected override extraRepr(): string {
    return `window_size=[${this.window}, ${this.window}], shift_size=[${this.shift}, ${this.shift}], num_heads=${this.numHeads}`;
  }
}

/**
 * The (2W-1) x (2W-1) relative offsets of a window, each axis scaled to [-8, 8] and log-spaced,
 * sign(v) * log2(|v| + 1) / 3: Swin V2's relative_coords_table, [1, 2W-1, 2W-1, 2]. Rounded to
 * float32 at each step, as torchvision computes it.
 */
function relativeCoordsTable(window: number): Float32Array {
  const side = 2 * window - 1;
  const table = new Float32Array(side * side * 2);
  const f = Math.fround;
  const logSpaced = (offset: number) => {
    const v = f(f(f(offset) / f(window - 1)) * 8);
    return f(f(Math.sign(v) * f(Math.log2(f(Math.abs(v) + 1)))) / 3);
  };
  for (let i = 0; i < side; i++) {
    for (let j = 0; j < side; j++) {
      table[(i * side + j) * 2] = logSpaced(i - (window - 1));
      table[(i * side + j) * 2 + 1] = logSpaced(j - (window - 1));
    }
  }
  return table;
}

/**
 * Swin V2's window attention: cosine similarity scaled by a learned per-head temperature (at
 * most 100), and a continuous relative position bias, 16 * sigmoid of a small MLP (`cpb_mlp`)
 * over the log-spaced offsets table.
 */
export class ShiftedWindowAttentionV2 extends Module {
  logit_scale: Parameter;
  relative_coords_table: Buffer;
  relative_position_index: Buffer;
  qkv: Linear;
  proj: Linear;
  cpb_mlp: Sequential;

  constructor(dim: number, readonly window: number, readonly shift: number, readonly numHeads: number, readonly dropout = 0) {
    super();
    this.logit_scale = new Parameter(new Float32Array(numHeads).fill(Math.log(10)), [numHeads, 1, 1]);
    const side = 2 * window - 1;
    this.relative_coords_table = new Buffer(relativeCoordsTable(window), [1, side, side, 2]);
    this.relative_position_index = new Buffer(relativePositionIndex(window), [window ** 4]);
    this.qkv = new Linear(dim, 3 * dim);
    this.proj = new Linear(dim, dim);
    this.cpb_mlp = new Sequential(new Linear(2, 512), new ReLU(), new Linear(512, numHeads, { bias: false }));
  }

  forward(x: Tensor): Tensor {
    const side = 2 * this.window - 1;
    const table = F.reshape(this.cpb_mlp.forward(this.relative_coords_table), [side * side, this.numHeads]);
    const bias = F.mul(F.sigmoid(relativePositionBias(table, this.relative_position_index, this.window)), 16);
    return shiftedWindowAttention(x, {
      qkvWeight: this.qkv.weight, qkvBias: this.qkv.bias, projWeight: this.proj.weight, projBias: this.proj.bias,
      relativePositionBias: bias, window: this.window, heads: this.numHeads, shift: this.shift,
      logitScale: this.logit_scale, dropout: this.dropout, training: this.training,
    });
  }

  protected override extraRepr(): string {
    return `window_size=[${this.window}, ${this.window}], shift_size=[${this.shift}, ${this.shift}], num_heads=${this.numHeads}`;
  }
}
