import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Tensor } from '../graph/tensor.ts';
import * as F from '../nn/functional.ts';
import { Module } from '../nn/module.ts';
import { ImageFolder } from '../data/datasets/image-folder.ts';
import { DatasetError } from '../data/datasets/dataset.ts';
import { DataLoader, type SkippedFile } from '../data/loader.ts';
import type { ModelSpec } from '../models/model-spec.ts';
import { currentRuntime, type Runtime } from '../runtime/runtime.ts';
import { evaluateImages } from '../train/loops.ts';
import type { EvalResult } from '../train/metrics.ts';
import { loadedModel, type LoadedModel, type LoadModelOptions } from './load-model.ts';

export type EvaluateEvent =
  | { type: 'skip'; file: string; reason: string }
  | { type: 'batch'; done: number; total: number };

export interface EvaluateOptions extends Pick<LoadModelOptions, 'weights'> {
  /** Images per forward pass (default 32). */
  batchSize?: number;
  /** Checked before every batch: an aborted signal rejects with an AbortError. */
  signal?: AbortSignal;
  onEvent?: (e: EvaluateEvent) => void;
  /** Where the graphs run; the calling code's runtime by default. */
  runtime?: Runtime;
}

export interface EvaluateResult extends EvalResult {
  /** The file of every prediction, in order. */
  files: string[];
  /** The folder evaluated (see `evaluationRoot`). */
  root: string;
  skipped: SkippedFile[];
  /** The model's classes, the order of the confusion matrix and the per-class table. */
  classes: string[];
}

/** The split to evaluate on: test/ if the folder has one, else val/, else the folder itself. */
export function evaluationRoot(dir: string): string {
  for (const sub of ['test', 'val']) {
    const p = join(dir, sub);
    if (existsSync(p) && statSync(p).isDirectory()) return p;
  }
  return dir;
}

/** Log-probabilities from a model whose outputs are probabilities, so cross-entropy reads them right. */
class LogOfProbabilities extends Module {
  constructor(readonly net: Module) { super(); }
  forward(x: Tensor): Tensor { return F.log(F.clamp(this.net.forward(x), 1e-12, 1)); }
}

/**
 * Evaluates a model (loaded, or a spec loaded for this call) on a labelled image folder whose
 * class folders carry the model's class names (a subset is fine; an unknown class is an error).
 */
export async function evaluate(model: LoadedModel | string | ModelSpec, data: string, opts: EvaluateOptions = {}): Promise<EvaluateResult> {
  const runtime = opts.runtime ?? currentRuntime();
  const loaded = await loadedModel(model, { weights: opts.weights, runtime });
  if (!loaded.labels) throw new TypeError(`${loaded.spec.spec} does not name its classes, so its predictions cannot be matched to class folders`);
  const classes = [...loaded.labels];
  const root = evaluationRoot(data);
  const found = new ImageFolder(root, { allowSingleClass: true });
  const unknown = found.classes.filter((c) => !classes.includes(c));
  if (unknown.length) {
    const known = classes.length > 20 ? `${classes.slice(0, 20).join(', ')}, ... (${classes.length} in all)` : classes.join(', ');
    throw new DatasetError(`${root} has class folders the model does not know: ${unknown.join(', ')} (the model's classes: ${known})`);
  }
  const dataset = new ImageFolder(root, { classes, allowSingleClass: true });
  const skipped: SkippedFile[] = [];
  const onWarning = (s: SkippedFile) => { skipped.push(s); opts.onEvent?.({ type: 'skip', ...s }); };
  const loader = new DataLoader(dataset, { batchSize: opts.batchSize ?? 32, transform: loaded.transform, onWarning });
  const net = loaded.outputs === 'probabilities' ? new LogOfProbabilities(loaded.model) : loaded.model;
  const total = dataset.samples.length;
  let done = 0;
  const onBatch = (images: number) => opts.onEvent?.({ type: 'batch', done: (done += images), total });
  try {
    const result = await runtime.run(() => evaluateImages(net, loader, classes, opts.signal, onBatch));
    return { ...result, root, skipped, classes };
  } finally {
    await loader.close();
  }
}
