import { train } from '../jobs/train.ts';
import { trainOnFeatures } from '../jobs/train-features.ts';
import type { TrainConfig } from '../train/config.ts';
import { progressReporter } from './progress.ts';
import { table } from './table.ts';

export interface TrainFlags {
  model?: string; weights?: string; features?: string; mode: TrainConfig['mode']; unfreeze?: number; epochs?: number; batchSize?: number; lr?: number;
  optimizer?: TrainConfig['optimizer']; momentum?: number; weightDecay?: number; scheduler?: TrainConfig['scheduler'];
  stepSize?: number; gamma?: number; augment?: TrainConfig['augment']; views?: number; valSplit?: number; seed?: number;
  labelSmoothing?: number; patience?: number; frozenEpochs?: number; out: string; resume?: boolean; cache: boolean; cacheDir?: string;
  strict?: boolean; json?: boolean; quiet?: boolean;
}

export async function trainCommand(dataDir: string | undefined, f: TrainFlags): Promise<void> {
  if ((dataDir === undefined) === (f.features === undefined)) throw new RangeError('graft train takes an image folder or --features <dir>, one of them');
  const progress = progressReporter(!f.quiet);
  const job = f.features === undefined ? train.bind(null, dataDir!) : trainOnFeatures.bind(null, f.features);
  const { result, summary, out, report, test } = await job({
    model: f.model, weights: f.weights === 'none' ? null : f.weights, mode: f.mode, unfreeze: f.unfreeze, epochs: f.epochs,
    batchSize: f.batchSize, lr: f.lr, optimizer: f.optimizer, momentum: f.momentum, weightDecay: f.weightDecay,
    scheduler: f.scheduler, stepSize: f.stepSize, gamma: f.gamma, augment: f.augment, views: f.views, valSplit: f.valSplit,
    seed: f.seed, labelSmoothing: f.labelSmoothing, patience: f.patience, frozenEpochs: f.frozenEpochs,
    featureCache: f.cache, cacheDir: f.cacheDir ?? null, strict: f.strict,
  }, { out: f.out, resume: f.resume, onEvent: progress.onEvent }).finally(() => progress.stop());

  if (f.json) {
    process.stdout.write(`${JSON.stringify({ ...summary, peak_rss_mb: +(process.resourceUsage().maxRSS / 1024).toFixed(1), out, report, skipped: [...result.skipped, ...(test?.skipped ?? [])] })}\n`);
    return;
  }
  const rows = result.history.map((h) => [
    String(h.epoch) + (h.epoch === result.bestEpoch ? ' *' : ''), h.phase ?? '', h.train_loss.toFixed(4), h.train_acc.toFixed(4),
    h.val_loss.toFixed(4), h.val_acc.toFixed(4), h.val_balanced_acc?.toFixed(4) ?? '', h.lr.toExponential(1), h.seconds.toFixed(1),
  ]);
  process.stdout.write(`\n${table(['epoch', 'phase', 'train loss', 'train acc', 'val loss', 'val acc', 'val bal. acc', 'lr', 'seconds'], rows)}`);
  process.stdout.write(`\nbest val acc ${(summary.best_val_acc * 100).toFixed(2)}% (balanced ${(summary.best_val_balanced_acc * 100).toFixed(2)}%) at epoch ${summary.best_epoch} · ${summary.train_images} train / ${summary.val_images} val images · ${summary.skipped_files} skipped · ${summary.wall_s.toFixed(1)} s\n`);
  if (test) process.stdout.write(`test acc ${(test.acc * 100).toFixed(2)}% (epoch ${summary.best_epoch}'s model) on ${test.count} images in ${test.root}${test.skipped.length ? ` · ${test.skipped.length} skipped` : ''}\n`);
  process.stdout.write(`model: ${out}\nreport: ${report}\n`);
}
