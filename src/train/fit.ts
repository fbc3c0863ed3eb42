import { preprocessingFor } from '../models/preprocessing.ts';
import { createClassifier } from '../models/classifier.ts';
import { parseModelSpec } from '../models/model-spec.ts';
import { splitAtHead, runStages, type Staged } from '../models/stages.ts';
import type { Preprocessing } from '../models/catalog.ts';
import type { Tensor } from '../graph/tensor.ts';
import type { Module } from '../nn/module.ts';
import { manualSeed, withSeed } from '../data/generators.ts';
import { currentRuntime, type Runtime } from '../runtime/runtime.ts';
import { loadImageFolders, type DatasetSplits } from '../data/datasets/folders.ts';
import { DataLoader, type SkippedFile } from '../data/loader.ts';
import { DatasetError } from '../data/datasets/dataset.ts';
import { evalPreset } from '../data/transforms/presets.ts';
import { mix32 } from '../data/rng.ts';
import { PIXEL_PIPELINE_VERSION } from '../data/sample.ts';
import { resolveConfig, type TrainConfig } from './config.ts';
import { trainTransform } from './augment.ts';
import { embed, type Embeddings } from './embeddings.ts';
import { FeatureCache, defaultFeatureCacheDir } from './feature-cache.ts';
import { backboneDigest } from './backbone-digest.ts';
import { checkPrecomputed, type PrecomputedFeatures } from './precomputed.ts';
import { setTrainable, onlyHeadTrains, backboneStageCount } from './trainable.ts';
import { makeOptimizer, makeSchedule } from './optimizer-setup.ts';
import { trainEpochOnImages, trainEpochOnFeatures, evaluateImages, evaluateFeatures, type StepReport } from './loops.ts';
import { showsTop5, type EvalResult } from './metrics.ts';
import { checkEpochFinite } from './diverged.ts';
import { loadCheckpoint, saveCheckpoint } from './checkpoint.ts';
import { AbortError, throwIfAborted } from './abort.ts';
import type { EpochRecord } from './history.ts';
import type { StateDict } from '../nn/state-dict.ts';

/** Epoch numbers in events, records and results count from 1, as the CLI and the report show them. */
export type TrainEvent =
  | { type: 'dataset'; classes: readonly string[]; train: number; val: number; source: string }
  | { type: 'features'; split: 'train' | 'val'; done: number; total: number }
  | { type: 'epoch-start'; epoch: number; epochs: number; phase: string }
  | { type: 'step'; epoch: number; report: StepReport }
  | { type: 'epoch-end'; record: EpochRecord; improved: boolean }
  /** `epoch`: the last epoch the checkpoint completed. */
  | { type: 'resumed'; epoch: number }
  | { type: 'early-stop'; epoch: number }
  | { type: 'stopped'; epoch: number; bestEpoch: number }
  | { type: 'skip'; file: string; reason: string }
  /** The feature cache in `dir` cannot be written (a full disk, say); the run goes on without caching. */
  | { type: 'cache-off'; dir: string; reason: string };

export interface FitOptions {
  /** Folder for checkpoints (written after every epoch) and, by the CLI, the trained model. */
  out?: string;
  /** Continue from the checkpoint in `out`. */
  resume?: boolean;
  onEvent?: (e: TrainEvent) => void;
  /** Where the graphs run; the calling code's runtime by default. */
  runtime?: Runtime;
  /**
   * Stops the run at the next step boundary (or batch of feature extraction). After an epoch has
   * ended, the run returns as if it had finished there, with the best epoch so far and `stopped`
   * set; before that there is nothing to keep, and it rejects with an AbortError.
   */
  signal?: AbortSignal;
  /**
   * Backbone features computed beforehand (`graft embed`): used instead of computing them, after
   * checking they come from this run's backbone, transforms and seed. Frozen backbone only.
   */
  features?: PrecomputedFeatures;
}

export interface TrainResult {
  config: TrainConfig;
  classes: readonly string[];
  model: Staged;
  preprocessing: Preprocessing;
  history: EpochRecord[];
  /** The number (from 1) of the epoch whose weights were kept. */
  bestEpoch: number;
  bestValAcc: number;
  /** Validation metrics of the best epoch, with the file of every prediction. */
  best: EvalResult & { files: string[] };
  skipped: SkippedFile[];
  trainImages: number;
  valImages: number;
  wallSeconds: number;
  featureCacheHits: number;
  /** The signal stopped the run before its last epoch; `history` holds the epochs that ended. */
  stopped: boolean;
}

interface Phase { name: string; start: number; end: number; unfrozen: number; lr: number; discriminative: boolean }

/** frozen: one phase; finetune: everything; two-stage: frozen epochs, then everything at lr/2 with lower rates below. */
function phasesFor(cfg: TrainConfig, backboneStages: number): Phase[] {
  if (cfg.mode === 'frozen') return [{ name: 'frozen', start: 0, end: cfg.epochs, unfrozen: cfg.unfreeze, lr: cfg.lr, discriminative: false }];
  if (cfg.mode === 'finetune') return [{ name: 'finetune', start: 0, end: cfg.epochs, unfrozen: backboneStages, lr: cfg.lr, discriminative: false }];
  return [
    { name: 'frozen', start: 0, end: cfg.frozenEpochs, unfrozen: cfg.unfreeze, lr: cfg.lr, discriminative: false },
    { name: 'unfrozen', start: cfg.frozenEpochs, end: cfg.epochs, unfrozen: backboneStages, lr: cfg.lr / 2, discriminative: true },
  ];
}

function copyState(sd: StateDict): StateDict {
  return new Map([...sd].map(([k, v]) => [k, { ...v, data: v.data.slice() } as typeof v]));
}

/**
 * Trains a classifier on a folder of images, the whole recipe: load the pretrained network,
 * replace its head, freeze what the mode says, train with per-epoch validation, keep the best
 * epoch's weights (restored into the model at the end), checkpoint every epoch. The run draws from
 * generators of its own, seeded by the config, so runs at once in one process do not disturb each
 * other.
 */
export async function fit(data: string | DatasetSplits, partial: Partial<TrainConfig>, opts: FitOptions = {}): Promise<TrainResult> {
  const cfg = resolveConfig(partial);
  const runtime = opts.runtime ?? currentRuntime();
  return runtime.run(() => withSeed(cfg.seed, () => fitWith(data, cfg, opts)));
}

async function fitWith(data: string | DatasetSplits, cfg: TrainConfig, opts: FitOptions): Promise<TrainResult> {
  const started = performance.now();
  const emit = opts.onEvent ?? (() => {});
  const signal = opts.signal;
  throwIfAborted(signal, 'The training run');
  const splits = typeof data === 'string' ? loadImageFolders(data, { valFraction: cfg.valSplit, seed: cfg.seed }) : data;
  const classes = splits.classes;
  if (classes.length < 2) throw new DatasetError(`Found ${classes.length} class; a classifier needs at least two class folders`);
  if (splits.train.samples.length === 0) throw new DatasetError('The training split has no images');
  if (splits.val.samples.length === 0) throw new DatasetError('The validation split has no images; add a val/ folder or raise valSplit');
  emit({ type: 'dataset', classes, train: splits.train.samples.length, val: splits.val.samples.length, source: splits.source });

  if (opts.features && (cfg.mode !== 'frozen' || cfg.unfreeze > 0)) {
    throw new RangeError(`Features computed beforehand (${opts.features.source}) train only a new head: mode "frozen" without unfreeze, not mode "${cfg.mode}" with unfreeze ${cfg.unfreeze}`);
  }
  // Weights are an option of the zoo and of hub checkpoints (none: the architecture alone); imported files bring their own.
  const kind = parseModelSpec(cfg.model).kind;
  const foreign = kind !== 'zoo' && kind !== 'hub';
  const model = await createClassifier(cfg.model, { weights: foreign ? null : cfg.weights, trainableBackbone: cfg.mode !== 'frozen' || cfg.unfreeze > 0 });
  const preprocessing = preprocessingFor(cfg.model, cfg.weights, model);
  manualSeed(cfg.seed);
  model.resetClassifier(classes.length);
  const stages = model.stages();
  const { backbone, head } = splitAtHead(stages);
  const headModules = head.flatMap((s) => [...s.modules]);
  const headForward = (x: Tensor) => runStages(head, x);
  const phases = phasesFor(cfg, backboneStageCount(stages));

  const skipped = new Map<string, string>();
  const onSkip = (s: SkippedFile) => { if (!skipped.has(s.file)) { skipped.set(s.file, s.reason); emit({ type: 'skip', ...s }); } };
  const evalTf = evalPreset(preprocessing);
  const trainTf = trainTransform(cfg.augment, preprocessing);
  const trainLoader = new DataLoader(splits.train, { batchSize: cfg.batchSize, shuffle: true, seed: cfg.seed, transform: trainTf, strict: cfg.strict, onWarning: onSkip });
  const valLoader = new DataLoader(splits.val, { batchSize: Math.max(cfg.batchSize, 16), transform: evalTf, strict: cfg.strict, onWarning: onSkip });

  // Features of the frozen backbone, computed once and shared by every epoch that trains only the head.
  let features: { train: Embeddings; val: Embeddings } | null = null;
  let cacheHits = 0;
  const getFeatures = async () => {
    if (features) return features;
    model.eval();
    const views = cfg.augment === 'none' ? 1 : cfg.views;
    if (opts.features) {
      checkPrecomputed(opts.features, {
        backbone: backboneDigest(model), transforms: { train: JSON.stringify(trainTf.spec()), val: JSON.stringify(evalTf.spec()) },
        pixels: PIXEL_PIPELINE_VERSION, seed: cfg.seed, views, trainImages: splits.train.samples.length, valImages: splits.val.samples.length,
      });
      features = { train: opts.features.train, val: opts.features.val };
      for (const s of [...features.train.skipped, ...features.val.skipped]) onSkip(s);
      return features;
    }
    const identity = { backbone: backboneDigest(model), cut: cfg.model + ':' + backbone.map((s) => s.name).join(','), seed: cfg.seed, pixels: PIXEL_PIPELINE_VERSION };
    const root = cfg.cacheDir ?? defaultFeatureCacheDir();
    let cacheOff = false;
    const onUnwritable = (dir: string, error: Error) => {
      if (!cacheOff) emit({ type: 'cache-off', dir, reason: error.message });
      cacheOff = true;
    };
    const cache = (t: string) => (cfg.featureCache ? new FeatureCache(root, { ...identity, transform: t }, { onUnwritable }) : null);
    const run = (x: Tensor) => runStages(backbone, x);
    const common = { seed: cfg.seed, strict: cfg.strict, onSkip, batchSize: 32, shrinkSmallPass: true };
    const trainCache = cache(JSON.stringify(trainTf.spec()));
    const valCache = cache(JSON.stringify(evalTf.spec()));
    await trainCache?.removeStaleTemps();
    await valCache?.removeStaleTemps();
    const train = await embed(run, splits.train.samples, { ...common, signal, transform: trainTf, views, cache: trainCache, onProgress: (done, total) => emit({ type: 'features', split: 'train', done, total }) });
    const val = await embed(run, splits.val.samples, { ...common, signal, transform: evalTf, views: 1, cache: valCache, onProgress: (done, total) => emit({ type: 'features', split: 'val', done, total }) });
    cacheHits = train.cacheHits + val.cacheHits;
    features = { train, val };
    return features;
  };
  const trainTargets = splits.train.samples.map((s) => s.target as number);
  const valTargets = splits.val.samples.map((s) => s.target as number);
  const valFiles = splits.val.samples.map((s) => s.path);

  let history: EpochRecord[] = [];
  let bestEpoch = -1;
  let bestAcc = -1;
  let bestState = copyState(model.stateDict());
  let bestEval: (EvalResult & { files: string[] }) | null = null;
  let sinceBest = 0;
  let startEpoch = 0;
  let stopped = false;
  const resumed = opts.resume && opts.out ? await loadCheckpoint(opts.out) : null;
  if (resumed) {
    model.loadStateDict(resumed.model, { source: 'the checkpoint' });
    bestState = resumed.best;
    const t = resumed.trainer as { history: EpochRecord[]; bestEpoch: number; bestAcc: number; bestEval: EvalResult & { files: string[] }; sinceBest: number; epochsFrom?: number };
    ({ history, bestEpoch, bestAcc, bestEval, sinceBest } = t);
    // Checkpoints written before epochs were counted from 1 numbered them from 0.
    if (t.epochsFrom !== 1) {
      history = history.map((h) => ({ ...h, epoch: h.epoch + 1 }));
      bestEpoch += 1;
    }
    startEpoch = resumed.epoch + 1;
    emit({ type: 'resumed', epoch: startEpoch });
  }

  try {
  training: for (const phase of phases) {
    if (phase.end <= startEpoch) continue;
    const groups = setTrainable(stages, phase.unfrozen, phase.lr, phase.discriminative);
    const onFeatures = onlyHeadTrains(stages);
    const optimizer = makeOptimizer(cfg, groups);
    const steps = onFeatures ? Math.ceil(splits.train.samples.length / cfg.batchSize) : trainLoader.length;
    const schedule = makeSchedule(cfg, optimizer, phase.end - phase.start, steps);
    if (resumed && startEpoch > phase.start) {
      optimizer.loadStateDict(resumed.optimizer);
      if (resumed.scheduler) schedule.loadStateDict(resumed.scheduler);
    }
    for (let epoch = Math.max(phase.start, startEpoch); epoch < phase.end; epoch++) {
      const t0 = performance.now();
      const number = epoch + 1;
      emit({ type: 'epoch-start', epoch: number, epochs: cfg.epochs, phase: phase.name });
      // Dropout masks and other draws restart from (seed, epoch): an epoch replays identically after a resume.
      manualSeed(mix32(cfg.seed ^ mix32(epoch + 1)));
      const lr = optimizer.paramGroups[optimizer.paramGroups.length - 1].lr;
      const onStep = (report: StepReport) => emit({ type: 'step', epoch: number, report });
      let train, val;
      if (onFeatures) {
        const f = await getFeatures();
        train = await trainEpochOnFeatures(headForward, headModules, f.train, trainTargets, epoch, cfg.seed, cfg.batchSize, optimizer, schedule, cfg.labelSmoothing, onStep, signal);
        val = await evaluateFeatures(headForward, headModules, f.val, valTargets, valFiles, classes, 64, signal);
      } else {
        train = await trainEpochOnImages(model, trainLoader, epoch, optimizer, schedule, cfg.labelSmoothing, onStep, signal);
        val = await evaluateImages(model, valLoader, classes, signal);
      }
      checkEpochFinite(model.stateDict(), val.loss, number, lr);
      schedule.afterEpoch();
      const record: EpochRecord = {
        epoch: number, phase: phase.name, train_loss: train.loss, train_acc: train.acc, val_loss: val.loss, val_acc: val.acc,
        val_balanced_acc: val.balancedAcc, ...(showsTop5(classes.length) ? { val_top5: val.top5 } : {}), lr, seconds: (performance.now() - t0) / 1000,
      };
      history.push(record);
      const improved = val.acc > bestAcc;
      if (improved) {
        bestAcc = val.acc;
        bestEpoch = number;
        bestState = copyState(model.stateDict());
        bestEval = val;
        sinceBest = 0;
      } else sinceBest++;
      emit({ type: 'epoch-end', record, improved });
      if (opts.out) {
        await saveCheckpoint(opts.out, {
          epoch, model: model.stateDict(), best: bestState, optimizer: optimizer.stateDict(), scheduler: schedule.stateDict(),
          trainer: { history, bestEpoch, bestAcc, bestEval, sinceBest, epochsFrom: 1 },
        });
      }
      if (cfg.patience > 0 && sinceBest >= cfg.patience) {
        emit({ type: 'early-stop', epoch: number });
        break training;
      }
    }
  }

  } catch (e) {
    if (!(e instanceof AbortError)) throw e;
    if (!bestEval) {
      throw new AbortError('The training run was stopped before its first epoch ended, so there is no epoch to keep', { cause: e.cause });
    }
    stopped = true;
    emit({ type: 'stopped', epoch: history[history.length - 1].epoch, bestEpoch });
  } finally {
    await Promise.all([trainLoader.close(), valLoader.close()]);
  }

  model.loadStateDict(bestState, { source: 'the best epoch' });
  model.eval();
  return {
    config: cfg, classes, model, preprocessing, history, bestEpoch, bestValAcc: bestAcc, best: bestEval!,
    skipped: [...skipped].map(([file, reason]) => ({ file, reason })),
    trainImages: splits.train.samples.length - [...skipped.keys()].filter((f) => splits.train.samples.some((s) => s.path === f)).length,
    valImages: splits.val.samples.length - [...skipped.keys()].filter((f) => splits.val.samples.some((s) => s.path === f)).length,
    wallSeconds: (performance.now() - started) / 1000,
    featureCacheHits: cacheHits,
    stopped,
  };
}
