import { basename, dirname, join, resolve } from 'node:path';
import { invalidType } from '../errors/index.ts';
import { rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { parseModelSpec } from '../models/model-spec.ts';
import { loadImageFolders, type DatasetSplits } from '../data/datasets/folders.ts';
import { currentRuntime, type Runtime } from '../runtime/runtime.ts';
import { fit, type TrainEvent, type TrainResult } from '../train/fit.ts';
import { resolveConfig, type TrainConfig } from '../train/config.ts';
import { AbortError } from '../train/abort.ts';
import type { PrecomputedFeatures } from '../train/precomputed.ts';
import { checkpointPath } from '../train/checkpoint.ts';
import { MODEL_FILE, isModelFolder, saveModelFolder } from '../artifacts/model-folder.ts';
import { REPORT_FILE, writeReport } from '../artifacts/report.ts';
import { reportInput, runSummary, type RunSummary } from './train-summary.ts';
import { prepareOutputFolder } from './output-folder.ts';
import { evaluateTestSplit, type TestEvaluation } from './test-split.ts';

export interface TrainOptions {
  /** The model folder to write (created when missing); checkpoints go there during the run. */
  out: string;
  /** Continue from the checkpoint in `out`. */
  resume?: boolean;
  /**
   * Stops the run at the next step boundary. Once an epoch has ended, the folder is written with
   * the best epoch so far and the checkpoint stays, so `resume` can continue; before that, the
   * job rejects with an AbortError and writes nothing.
   */
  signal?: AbortSignal;
  onEvent?: (e: TrainEvent) => void;
  /** Where the graphs run; the calling code's runtime by default. */
  runtime?: Runtime;
  /** The report's title; by default "<data folder> · <model> · <mode>". */
  title?: string;
  /** Backbone features computed beforehand (see trainOnFeatures), instead of computing them. */
  features?: PrecomputedFeatures;
}

export interface TrainJobResult {
  /** What fit returned; `result.stopped` says whether the signal ended it early. */
  result: TrainResult;
  /** The numbers the run is judged by, as graft.json and `graft train --json` name them. */
  summary: RunSummary;
  /** The model folder (absolute) and the files written into it. */
  out: string;
  weights: string;
  report: string;
  /** The checkpoint kept for `resume` after a stopped run; null when the run finished. */
  checkpoint: string | null;
  /** The kept model on the data's test split, when it has one and the run was not stopped. */
  test: TestEvaluation | null;
}

/** The data's name for the report: the dataset folder, above its train/ when it has one. */
function dataName(data: string | DatasetSplits): string {
  if (typeof data === 'string') return basename(resolve(data));
  return basename(resolve(data.source === 'split' ? data.train.root : dirname(data.train.root)));
}

/**
 * A folder given as the architecture is most likely a trained model folder: say what it is
 * rather than that no model has that name.
 */
function checkArchitecture(model: string | undefined): void {
  if (model === undefined) return;
  const spec = parseModelSpec(model);
  if (spec.kind !== 'folder' || !existsSync(spec.dir)) return;
  const what = isModelFolder(spec.dir) ? 'a trained model folder' : 'a folder, and not a complete graft model folder (no graft.json)';
  throw new RangeError(`${spec.dir} is ${what}; the model to train is a zoo name (graft models lists them), onnx:<file.onnx>[#tensor] or tfjs:<model.json>`);
}

/**
 * The whole training job: fit, the kept model evaluated on the test split when the data has one
 * (a test/ folder), then the model folder (weights, labels, graft.json with config, history and
 * test metrics, the HTML report) swapped in whole, without the checkpoint once the run has
 * finished. The output folder is checked first, so a run that could not be saved never starts.
 */
export async function train(data: string | DatasetSplits, config: Partial<TrainConfig>, opts: TrainOptions): Promise<TrainJobResult> {
  if (typeof opts?.out !== 'string' || opts.out === '') {
    throw invalidType('out', 'the path of the model folder to write', opts?.out);
  }
  const out = resolve(opts.out);
  checkArchitecture(config?.model);
  await prepareOutputFolder(out);
  const runtime = opts.runtime ?? currentRuntime();
  // The splits are made here, as fit would make them, so the test split is at hand afterwards.
  const resolved = resolveConfig(config);
  const splits = typeof data === 'string' ? loadImageFolders(data, { valFraction: resolved.valSplit, seed: resolved.seed }) : data;
  const result = await fit(splits, config, { out, resume: opts.resume, signal: opts.signal, onEvent: opts.onEvent, runtime, features: opts.features });
  const test = splits.test && !result.stopped ? await testMetrics(result, splits.test, runtime, opts) : null;
  const summary = runSummary(result, test);
  const title = opts.title ?? `${dataName(data)} · ${result.config.model} · ${result.config.mode}`;
  const checkpoint = checkpointPath(out);
  await saveModelFolder(out, result.model, {
    model: result.config.model, pretrained: result.config.weights, classes: [...result.classes], preprocessing: result.preprocessing,
    training: { ...result.config }, metrics: { ...summary, per_class: result.best.perClass, confusion: result.best.confusion },
    history: result.history,
  }, {
    extra: async (dir) => { await writeReport(dir, reportInput(result, title, test)); },
    drop: result.stopped ? [] : [basename(checkpoint)],
  });
  if (!result.stopped) await rm(checkpoint, { force: true });
  return { result, summary, out, weights: join(out, MODEL_FILE), report: join(out, REPORT_FILE), checkpoint: result.stopped ? checkpoint : null, test };
}

/** The test split's metrics; a stop requested while they are measured keeps the trained model without them. */
async function testMetrics(result: TrainResult, test: NonNullable<DatasetSplits['test']>, runtime: Runtime, opts: TrainOptions): Promise<TestEvaluation | null> {
  const onSkip = (s: { file: string; reason: string }) => opts.onEvent?.({ type: 'skip', file: s.file, reason: s.reason });
  try {
    return await evaluateTestSplit(result, test, { runtime, signal: opts.signal, onSkip });
  } catch (e) {
    if (e instanceof AbortError) return null;
    throw e;
  }
}

