import type { TrainResult } from '../train/fit.ts';
import { showsTop5 } from '../train/metrics.ts';
import type { TestEvaluation } from './test-split.ts';
import type { ReportInput, WrongPrediction } from '../artifacts/report.ts';

/** The most confidently wrong validation predictions, surest first. */
export function mostConfidentlyWrong(r: TrainResult, limit = 16): WrongPrediction[] {
  return r.best.predictions
    .map((p, i) => ({ ...p, file: r.best.files[i] }))
    .filter((p) => p.actual !== p.predicted)
    .sort((a, b) => b.prob - a.prob)
    .slice(0, limit)
    .map((p) => ({ file: p.file, actual: r.classes[p.actual], predicted: r.classes[p.predicted], prob: p.prob }));
}

/**
 * The numbers a run is judged by, with the names the JSON output uses. `best_epoch` counts from 1;
 * `best_val_top5` is null with five classes or fewer, where every answer is in the top five.
 */
export type RunSummary = ReturnType<typeof runSummary>;

export function runSummary(r: TrainResult, test: TestEvaluation | null = null) {
  const best = r.history.find((h) => h.epoch === r.bestEpoch);
  return {
    best_val_acc: r.bestValAcc,
    best_val_balanced_acc: r.best.balancedAcc,
    best_epoch: r.bestEpoch,
    epochs: r.history.length,
    wall_s: +r.wallSeconds.toFixed(2),
    train_images: r.trainImages,
    val_images: r.valImages,
    skipped_files: r.skipped.length,
    best_val_loss: best?.val_loss ?? null,
    best_val_top5: showsTop5(r.classes.length) ? r.best.top5 : null,
    feature_cache_hits: r.featureCacheHits,
    model: r.config.model,
    mode: r.config.mode,
    // Only for data with a test split: the best epoch's model on images that chose nothing.
    ...(test ? { test_acc: test.acc, test_loss: test.loss, test_images: test.count, test_skipped_files: test.skipped.length } : {}),
  };
}

const percent = (v: number) => `${(v * 100).toFixed(2)}%`;

export function reportInput(r: TrainResult, title: string, test: TestEvaluation | null = null): ReportInput {
  const s = runSummary(r, test);
  return {
    title,
    classes: [...r.classes],
    history: r.history,
    bestEpoch: r.history.findIndex((h) => h.epoch === r.bestEpoch),
    confusion: r.best.confusion,
    perClass: r.best.perClass,
    wrong: mostConfidentlyWrong(r),
    summary: {
      model: r.config.model, weights: r.config.weights ?? 'none', mode: r.config.mode, epochs: s.epochs,
      'best val acc': percent(s.best_val_acc), 'best val balanced acc': percent(s.best_val_balanced_acc),
      ...(s.best_val_top5 === null ? {} : { 'best val top-5': percent(s.best_val_top5) }),
      'best epoch': s.best_epoch, 'wall time': `${s.wall_s.toFixed(1)} s`,
      'train images': s.train_images, 'val images': s.val_images, 'skipped files': s.skipped_files,
      ...(test ? { 'test acc': percent(test.acc), 'test images': test.count } : {}),
    },
    createdAt: new Date().toISOString(),
  };
}
