import './tensor-api.ts';
import { Tensor, tensor, constant } from '../graph/tensor.ts';
import * as T from '../graph/functional.ts';
import { Module } from './module.ts';
import { checkChoice, checkInteger, checkNumber, invalidParameter, invalidType, received } from '../errors/index.ts';

/**
 * Loss functions, as torch.nn.functional's, composed only of differentiable primitives
 * (logSoftmax, mul, sum, ...) so their gradients come from the primitives' rules. Class labels
 * never enter the graph as integers: they become a float target matrix built on the host and fed
 * as data, which also keeps the compiled graph the same from batch to batch.
 */

export type Reduction = 'mean' | 'sum' | 'none';
const REDUCTIONS: readonly Reduction[] = ['mean', 'sum', 'none'];

export interface CrossEntropyOptions {
  /** A weight per class (length C), e.g. to balance rare classes. */
  weight?: Tensor | Float32Array | number[];
  /** Samples whose label is this value contribute nothing, and don't count in the mean. Default -100. */
  ignoreIndex?: number;
  /** 'mean' (default; weighted by the samples' class weights), 'sum' or 'none' (one loss per sample). */
  reduction?: Reduction;
  /** Mixes the target with the uniform distribution: (1 - s) * target + s / C. Between 0 and 1; default 0. */
  labelSmoothing?: number;
}

export interface BCEWithLogitsOptions {
  /** A weight per element, broadcast against the logits (a Float32Array is one weight per class, the last dim). */
  weight?: Tensor | Float32Array | number[];
  /** Weight of the positive term per class (last dim): > 1 raises recall, < 1 precision. */
  posWeight?: Tensor | Float32Array | number[];
  reduction?: Reduction;
}

export interface MSEOptions {
  reduction?: Reduction;
}

const dims = (shape: readonly number[]) => `[${shape.join(', ')}]`;

function checkReduction(fn: string, r: unknown): Reduction {
  return checkChoice(`reduction of ${fn}`, r, REDUCTIONS);
}

function checkTensor(fn: string, name: string, t: unknown): Tensor {
  if (!(t instanceof Tensor)) throw invalidType(`${name} of ${fn}`, 'a Tensor', t);
  return t;
}

/** Host values of a per-class table given as a Tensor (with a value), a Float32Array or numbers. */
function classTable(fn: string, name: string, w: Tensor | Float32Array | number[], classes: number): Float32Array {
  let values: ArrayLike<number>;
  if (w instanceof Tensor) {
    if (w.dtype !== 'float32' || !(w.value instanceof Float32Array)) {
      throw invalidType(`${name} of ${fn}`, 'a float32 tensor with host values (e.g. tensor([...]))', received(w.toString()));
    }
    values = w.value;
  } else if (w instanceof Float32Array || Array.isArray(w)) {
    values = w;
  } else {
    throw invalidType(`${name} of ${fn}`, 'a Tensor, Float32Array or array of numbers', w);
  }
  if (values.length !== classes) {
    throw invalidParameter(`${name} of ${fn}`, `${classes} values (one per class)`, received(`${values.length} values`));
  }
  return Float32Array.from(values);
}

function reduce(loss: Tensor, reduction: Reduction): Tensor {
  if (reduction === 'none') return loss;
  return reduction === 'sum' ? T.sum(loss) : T.mean(loss);
}

/**
 * Cross entropy between logits [N, C] and a target, as torch.nn.functional.cross_entropy:
 *
 * - class indices (int64 [N], from `labels([...])`): loss_n = -w[y_n] * log softmax(x_n)[y_n];
 *   'mean' divides the sum by the sum of the weights of the non-ignored samples (not by N). With
 *   label smoothing s, loss_n = (1 - s) * that + (s / C) * sum_c w[c] * -log softmax(x_n)[c], and
 *   'mean' divides both parts by the same weight sum.
 * - class probabilities (float [N, C], e.g. mixup targets): loss_n = -sum_c w[c] * p[n,c] *
 *   log softmax(x_n)[c], with p smoothed to (1 - s) * p + s / C; 'mean' divides by N.
 *
 * @example
 * const loss = F.crossEntropy(model.forward(inputs), labels([0, 1, 1]), { labelSmoothing: 0.1 });
 */
export function crossEntropy(logits: Tensor, target: Tensor, options: CrossEntropyOptions = {}): Tensor {
  const fn = 'crossEntropy';
  checkTensor(fn, 'logits', logits);
  checkTensor(fn, 'target', target);
  if (logits.ndim !== 2 || logits.dtype !== 'float32') {
    throw invalidParameter(fn, 'float32 logits of shape [N, C]', received(logits.toString()));
  }
  const [n, classes] = logits.shape;
  const reduction = checkReduction(fn, options.reduction ?? 'mean');
  const smoothing = checkNumber(`labelSmoothing of ${fn}`, options.labelSmoothing ?? 0, { min: 0, max: 1 });
  const ignoreIndex = checkInteger(`ignoreIndex of ${fn}`, options.ignoreIndex ?? -100);
  const weight = options.weight === undefined ? null : classTable(fn, 'weight', options.weight, classes);
  const logProbs = T.logSoftmax(logits, 1);

  if (target.dtype === 'float32') {
    if (target.ndim !== 2 || target.shape[0] !== n || target.shape[1] !== classes) {
      throw invalidParameter(`target of ${fn}`, `probabilities of shape [${n}, ${classes}] (like the logits)`, received(`shape ${dims(target.shape)}`));
    }
    let p = smoothing > 0 ? T.add(T.mul(target, 1 - smoothing), smoothing / classes) : target;
    if (weight) p = T.mul(p, constant(weight, [classes]));
    const perSample = T.neg(T.sum(T.mul(logProbs, p), 1));
    // PyTorch divides by N here, whatever the weights.
    return reduction === 'none' ? perSample : reduction === 'sum' ? T.sum(perSample) : T.div(T.sum(perSample), n);
  }

  if (target.ndim !== 1 || target.shape[0] !== n) {
    throw invalidParameter(`target of ${fn}`, `class indices of shape [${n}] (one per row of the logits)`, received(`shape ${dims(target.shape)}`));
  }
  if (!(target.value instanceof BigInt64Array)) {
    throw invalidType(`target of ${fn}`, 'class indices with host values (e.g. labels([...]))', received(`the result of an op, ${target.toString()}`));
  }
  const ys = target.value;
  // The whole loss is -sum(targets * logProbs): one row of target weights per sample, zero for
  // ignored samples, already divided by the mean's denominator.
  const rows = new Float64Array(n * classes);
  let denominator = 0;
  for (let i = 0; i < n; i++) {
    const y = Number(ys[i]);
    if (y === ignoreIndex) continue;
    if (!(y >= 0 && y < classes)) {
      throw invalidParameter(`target[${i}] of ${fn}`, `class index between 0 and ${classes - 1} (or ignoreIndex ${ignoreIndex})`, received(`${ys[i]}`));
    }
    const wy = weight ? weight[y] : 1;
    denominator += wy;
    const row = i * classes;
    if (smoothing > 0) for (let c = 0; c < classes; c++) rows[row + c] = (smoothing / classes) * (weight ? weight[c] : 1);
    rows[row + y] += (1 - smoothing) * wy;
  }
  // All samples ignored: PyTorch's mean is 0/0 = NaN, and so is this.
  const scale = reduction === 'mean' ? 1 / denominator : 1;
  const targets = new Float32Array(n * classes);
  for (let k = 0; k < targets.length; k++) targets[k] = rows[k] * scale;
  const weighted = T.mul(logProbs, tensor(targets, [n, classes]));
  return reduction === 'none' ? T.neg(T.sum(weighted, 1)) : T.neg(T.sum(weighted));
}

/**
 * Binary cross entropy on logits, for multi-label classification, as
 * torch.nn.functional.binary_cross_entropy_with_logits (sigmoid and log fused for stability):
 *
 *     loss = (1 - t) * x + (1 + (posWeight - 1) * t) * log(1 + exp(-x))
 *
 * where log(1 + exp(-x)) is computed as m + log(exp(-m) + exp(-x - m)), m = max(-x, 0), so it
 * never overflows; then multiplied by `weight` and reduced.
 */
export function binaryCrossEntropyWithLogits(logits: Tensor, targets: Tensor, options: BCEWithLogitsOptions = {}): Tensor {
  const fn = 'binaryCrossEntropyWithLogits';
  checkTensor(fn, 'logits', logits);
  checkTensor(fn, 'targets', targets);
  if (targets.dtype !== 'float32' || targets.shape.length !== logits.shape.length || targets.shape.some((d, i) => d !== logits.shape[i])) {
    throw invalidParameter(fn, `float32 targets of shape ${dims(logits.shape)} (like the logits)`, received(targets.toString()));
  }
  const reduction = checkReduction(fn, options.reduction ?? 'mean');
  const classes = logits.shape[logits.ndim - 1] ?? 1;
  // A Tensor broadcasts as it is; host arrays are one value per class (the last dim).
  const perClass = (name: string, v: Tensor | Float32Array | number[]): Tensor =>
    v instanceof Tensor ? v : constant(classTable(fn, name, v, classes), [classes]);

  const negLogits = T.neg(logits);
  const m = T.relu(negLogits);
  const softplusNeg = T.add(m, T.log(T.add(T.exp(T.neg(m)), T.exp(T.sub(negLogits, m)))));
  const negativeTerm = T.mul(T.sub(1, targets), logits);
  let positiveTerm = softplusNeg;
  if (options.posWeight !== undefined) {
    const logWeight = T.add(T.mul(T.sub(perClass('posWeight', options.posWeight), 1), targets), 1);
    positiveTerm = T.mul(logWeight, softplusNeg);
  }
  let loss = T.add(negativeTerm, positiveTerm);
  if (options.weight !== undefined) {
    loss = T.mul(loss, perClass('weight', options.weight));
  }
  return reduce(loss, reduction);
}

/** Mean squared error, as torch.nn.functional.mse_loss; input and target must have the same shape. */
export function mseLoss(input: Tensor, target: Tensor, options: MSEOptions = {}): Tensor {
  const fn = 'mseLoss';
  checkTensor(fn, 'input', input);
  checkTensor(fn, 'target', target);
  if (target.shape.length !== input.shape.length || target.shape.some((d, i) => d !== input.shape[i])) {
    // PyTorch broadcasts with a warning; a shape mismatch here is nearly always a bug ([N] vs [N, 1]).
    throw invalidParameter(fn, `target of shape ${dims(input.shape)} (like the input)`, received(`shape ${dims(target.shape)}`));
  }
  const reduction = checkReduction(fn, options.reduction ?? 'mean');
  const diff = T.sub(input, target);
  return reduce(T.mul(diff, diff), reduction);
}

/**
 * torch.nn.CrossEntropyLoss: `criterion.forward(logits, labels)`.
 *
 * @example
 * const criterion = new nn.CrossEntropyLoss({ labelSmoothing: 0.1 });
 * const loss = criterion.forward(model.forward(inputs), labels(batchLabels));
 */
export class CrossEntropyLoss extends Module {
  readonly options: CrossEntropyOptions;

  constructor(options: CrossEntropyOptions = {}) {
    super();
    checkReduction('CrossEntropyLoss', options.reduction ?? 'mean');
    this.options = { ...options };
  }

  forward(logits: Tensor, target: Tensor): Tensor {
    return crossEntropy(logits, target, this.options);
  }

  protected override extraRepr(): string {
    return `reduction=${this.options.reduction ?? 'mean'}${this.options.labelSmoothing ? `, labelSmoothing=${this.options.labelSmoothing}` : ''}`;
  }
}

/** torch.nn.BCEWithLogitsLoss, for multi-label targets. */
export class BCEWithLogitsLoss extends Module {
  readonly options: BCEWithLogitsOptions;

  constructor(options: BCEWithLogitsOptions = {}) {
    super();
    checkReduction('BCEWithLogitsLoss', options.reduction ?? 'mean');
    this.options = { ...options };
  }

  forward(logits: Tensor, targets: Tensor): Tensor {
    return binaryCrossEntropyWithLogits(logits, targets, this.options);
  }
}

/** torch.nn.MSELoss. */
export class MSELoss extends Module {
  readonly options: MSEOptions;

  constructor(options: MSEOptions = {}) {
    super();
    checkReduction('MSELoss', options.reduction ?? 'mean');
    this.options = { ...options };
  }

  forward(input: Tensor, target: Tensor): Tensor {
    return mseLoss(input, target, this.options);
  }
}
