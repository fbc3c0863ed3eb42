import { tensor, labels as labelTensor, type Tensor } from '../graph/tensor.ts';
import { backward } from '../runtime/backward.ts';
import { currentRuntime } from '../runtime/runtime.ts';
import { crossEntropy } from '../nn/losses.ts';
import type { Module } from '../nn/module.ts';
import type { Optimizer } from '../optim/index.ts';
import type { DataLoader } from '../data/loader.ts';
import { Rng } from '../data/rng.ts';
import { MetricAccumulator, type EvalResult } from './metrics.ts';
import type { Embeddings } from './embeddings.ts';
import type { Schedule } from './optimizer-setup.ts';
import { throwIfAborted } from './abort.ts';
import { checkStepLoss } from './diverged.ts';

export interface StepReport { batch: number; batches: number; loss: number; images: number }

export interface EpochStats { loss: number; acc: number; images: number }

/** One optimizer step on a batch; returns the loss and the logits (computed in the same run). */
async function step(forward: (x: Tensor) => Tensor, x: Tensor, y: ArrayLike<number>, optimizer: Optimizer, labelSmoothing: number) {
  optimizer.zeroGrad();
  const logits = forward(x);
  const loss = crossEntropy(logits, labelTensor(y), { labelSmoothing });
  await backward(loss, undefined, [logits]);
  optimizer.step();
  return { loss: await loss.item(), logits: logits.value as Float32Array };
}

const currentLr = (optimizer: Optimizer) => optimizer.paramGroups[optimizer.paramGroups.length - 1].lr;

function tally(acc: { lossSum: number; correct: number; n: number }, loss: number, logits: Float32Array, y: ArrayLike<number>) {
  const c = logits.length / y.length;
  for (let i = 0; i < y.length; i++) {
    let best = 0;
    for (let j = 1; j < c; j++) if (logits[i * c + j] > logits[i * c + best]) best = j;
    if (best === y[i]) acc.correct++;
  }
  acc.lossSum += loss * y.length;
  acc.n += y.length;
}

/**
 * An epoch of training on images: every trainable parameter learns. `epoch` is the 0-based index
 * that seeds the epoch's draws; a diverged loss is reported with epochs and steps counted from 1.
 */
export async function trainEpochOnImages(
  model: Module, loader: DataLoader, epoch: number, optimizer: Optimizer, schedule: Schedule, labelSmoothing: number,
  onStep?: (r: StepReport) => void, signal?: AbortSignal,
): Promise<EpochStats> {
  model.train();
  loader.epoch = epoch;
  const acc = { lossSum: 0, correct: 0, n: 0 };
  let b = 0;
  for await (const batch of loader) {
    throwIfAborted(signal, 'Training');
    const y = batch.labels as Int32Array;
    const lr = currentLr(optimizer);
    const { loss, logits } = await step((x) => model.forward(x), tensor(batch.images, batch.shape), y, optimizer, labelSmoothing);
    checkStepLoss(loss, epoch + 1, b + 1, loader.length, lr);
    schedule.afterBatch();
    tally(acc, loss, logits, y);
    onStep?.({ batch: ++b, batches: loader.length, loss, images: y.length });
  }
  return { loss: acc.lossSum / Math.max(1, acc.n), acc: acc.correct / Math.max(1, acc.n), images: acc.n };
}

/**
 * An epoch of training the head on cached features. Sample order and the view each sample
 * shows this epoch are drawn from (seed, epoch), so a resumed run repeats them exactly.
 */
export async function trainEpochOnFeatures(
  head: (x: Tensor) => Tensor, headModules: Module[], emb: Embeddings, targets: readonly number[], epoch: number, seed: number,
  batchSize: number, optimizer: Optimizer, schedule: Schedule, labelSmoothing: number, onStep?: (r: StepReport) => void,
  signal?: AbortSignal,
): Promise<EpochStats> {
  for (const m of headModules) m.train();
  const rng = new Rng([seed, epoch, 0x4845]);
  const usable = targets.map((_, i) => i).filter((i) => emb.usable[i]);
  const order = rng.permutation(usable.length);
  const batches = Math.ceil(usable.length / batchSize);
  const acc = { lossSum: 0, correct: 0, n: 0 };
  for (let b = 0; b < batches; b++) {
    throwIfAborted(signal, 'Training');
    const idx = Array.from(order.subarray(b * batchSize, (b + 1) * batchSize), (k) => usable[k]);
    const x = new Float32Array(idx.length * emb.dim);
    idx.forEach((i, k) => {
      const v = emb.views.length > 1 ? rng.int(0, emb.views.length) : 0;
      x.set(emb.views[v].subarray(i * emb.dim, (i + 1) * emb.dim), k * emb.dim);
    });
    const y = idx.map((i) => targets[i]);
    const lr = currentLr(optimizer);
    const { loss, logits } = await step(head, tensor(x, [idx.length, emb.dim]), y, optimizer, labelSmoothing);
    checkStepLoss(loss, epoch + 1, b + 1, batches, lr);
    schedule.afterBatch();
    tally(acc, loss, logits, y);
    onStep?.({ batch: b + 1, batches, loss, images: idx.length });
  }
  return { loss: acc.lossSum / Math.max(1, acc.n), acc: acc.correct / Math.max(1, acc.n), images: acc.n };
}

async function evalBatch(forward: (x: Tensor) => Tensor, x: Tensor, y: ArrayLike<number>, m: MetricAccumulator) {
  const logits = forward(x);
  const loss = crossEntropy(logits, labelTensor(y));
  await currentRuntime().realize([loss, logits]);
  m.add(logits.value as Float32Array, y, await loss.item());
}

/**
 * Validation on images: eval mode, no gradients. The weights as they are now are baked into the
 * graph, so ONNX Runtime folds batch norm into the convolutions and prepacks their kernels; that
 * graph serves this pass only and is released after it.
 */
export async function evaluateImages(
  model: Module, loader: DataLoader, classes: readonly string[], signal?: AbortSignal, onBatch?: (images: number) => void,
): Promise<EvalResult & { files: string[] }> {
  model.eval();
  const thawed = [...model.parameters()].filter((p) => p.requiresGrad);
  for (const p of thawed) p.requiresGrad = false;
  try {
    return await currentRuntime().withTransientSessions(async () => {
      const m = new MetricAccumulator(classes);
      const files: string[] = [];
      for await (const batch of loader) {
        throwIfAborted(signal, 'Evaluation');
        await evalBatch((x) => model.forward(x), tensor(batch.images, batch.shape), batch.labels as Int32Array, m);
        files.push(...batch.files);
        onBatch?.(batch.files.length);
      }
      return { ...m.result(), files };
    });
  } finally {
    for (const p of thawed) p.requiresGrad = true;
  }
}

/** Validation of the head on cached features of the validation images (one view, the eval transform). */
export async function evaluateFeatures(
  head: (x: Tensor) => Tensor, headModules: Module[], emb: Embeddings, targets: readonly number[], files: readonly string[],
  classes: readonly string[], batchSize: number, signal?: AbortSignal,
): Promise<EvalResult & { files: string[] }> {
  for (const m of headModules) m.eval();
  const usable = targets.map((_, i) => i).filter((i) => emb.usable[i]);
  const m = new MetricAccumulator(classes);
  for (let s = 0; s < usable.length; s += batchSize) {
    throwIfAborted(signal, 'Evaluation');
    const idx = usable.slice(s, s + batchSize);
    const x = new Float32Array(idx.length * emb.dim);
    idx.forEach((i, k) => x.set(emb.views[0].subarray(i * emb.dim, (i + 1) * emb.dim), k * emb.dim));
    await evalBatch(head, tensor(x, [idx.length, emb.dim]), idx.map((i) => targets[i]), m);
  }
  return { ...m.result(), files: usable.map((i) => files[i]) };
}
