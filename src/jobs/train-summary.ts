import type { TrainResult } from '../train/fit.ts';
import type { ReportInput, WrongPrediction } from '../artifacts/report.ts';
import type { TestEvaluation } from './test-split.ts';

/** The most confidently wrong validation predictions, surest first. */
export function mostConfidentlyWrong(r: TrainResult, limit = 16): WrongPrediction[] {
  return r.best.predictions
    .map((p, i) => ({ ...p, file: r.best.files[i] }))
    .filter((p) => p.actual !== p.predicted)
    .sort((a, b) => b.prob - a.prob)
    .slice(0, limit)
    .map((p) => ({ file: p.file, actual: r.classes[p.actual], predicted: r.classes[p.predicted], prob: p.prob }));
}

/** The numbers a run is judged by, with the names the JSON output uses. */
export type RunSummary = ReturnType<typeof runSummary>;

export function runSummary(r: TrainResult, test: TestEvaluation | null = null) {
  return {
    best_val_acc: r.bestValAcc,
    best_epoch: r.bestEpoch,
    epochs: r.history.length,
    wall_s: +r.wallSeconds.toFixed(2),
    train_images: r.trainImages,
    val_images: r.valImages,
    skipped_files: r.skipped.length,
    best_val_loss: r.history[r.bestEpoch]?.val_loss ?? null,
    best_val_top5: r.best.top5,
    feature_cache_hits: r.featureCacheHits,
    model: r.config.model,
    mode: r.config.mode,
    // Only for data with a test split: the best epoch's model on images that chose nothing.
    ...(test ? { test_acc: test.acc, test_loss: test.loss, test_images: test.count, test_skipped_files: test.skipped.length } : {}),
  };
}

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
      'best val acc': `${(s.best_val_acc * 100).toFixed(2)}%`, 'best epoch': s.best_epoch + 1, 'wall time': `${s.wall_s.toFixed(1)} s`,
      'train images': s.train_images, 'val images': s.val_images, 'skipped files': s.skipped_files,
      ...(test ? { 'test acc': `${(test.acc * 100).toFixed(2)}%`, 'test images': test.count } : {}),
    },
    createdAt: new Date().toISOString(),
  };
}
