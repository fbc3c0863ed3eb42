import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { embedFeatures } from '../jobs/embed.ts';
import { readFeaturesFolder } from '../jobs/shards/features-manifest.ts';
import { writeFileAtomic } from '../formats/atomic-write.ts';
import type { Runtime } from '../runtime/runtime.ts';
import type { TrainConfig } from '../train/config.ts';
import type { ClassScore, ImagePrediction, Inspection } from './api.ts';
import { normalizeRows, similarity } from './similarity.ts';
import type { ValidationFile } from './validation-file.ts';

export const NEIGHBOURS = 5;
export const MISLABELED_AGREEMENT = 0.8;
export const DUPLICATE_SIMILARITY = 0.97;
/** Lists longer than this are cut to their strongest entries: a page reviews the top of them. */
const LIST_LIMIT = 1000;

/** Confusion matrix [actual][predicted] and per-class scores of the validation predictions. */
export function scores(classes: readonly string[], predictions: readonly ImagePrediction[]): { confusion: number[][]; perClass: ClassScore[] } {
  const at = new Map(classes.map((c, i) => [c, i]));
  const confusion = classes.map(() => new Array<number>(classes.length).fill(0));
  for (const p of predictions) {
    const a = at.get(p.actual);
    const q = at.get(p.predicted);
    if (a !== undefined && q !== undefined) confusion[a][q]++;
  }
  const perClass = classes.map((c, i) => {
    const tp = confusion[i][i];
    const support = confusion[i].reduce((s, v) => s + v, 0);
    const predicted = confusion.reduce((s, row) => s + row[i], 0);
    const precision = predicted ? tp / predicted : 0;
    const recall = support ? tp / support : 0;
    const f1 = precision + recall ? (2 * precision * recall) / (precision + recall) : 0;
    return { class: c, precision, recall, f1, support };
  });
  return { confusion, perClass };
}

export interface FeatureReview { likelyMislabeled: Inspection['likelyMislabeled']; nearDuplicates: Inspection['nearDuplicates'] }

/**
 * Likely mislabeled images and near-duplicates across classes, from the run's backbone features
 * of every image of the project (each image through the eval transform once): an image whose
 * k nearest neighbours (cosine) mostly carry one other label is suggested that label; two images
 * of different classes nearly the same in feature space are a pair to review. The features are
 * the pretrained backbone's, the run's own for a frozen run: the embed job computes them, in
 * shards it keeps, so a second inspection of the same data reads them back.
 */
export async function reviewFeatures(dataDir: string, featuresDir: string, config: TrainConfig, runtime: Runtime): Promise<FeatureReview> {
  await embedFeatures(dataDir, { out: featuresDir, model: config.model, weights: config.weights, seed: config.seed, augment: 'none', valSplit: config.valSplit, runtime });
  const { ids, labels, x, d, classes } = await featureMatrix(featuresDir);
  const n = ids.length;
  const unit = normalizeRows(x, n, d);
  const { neighbours, pairs } = await similarity(unit, n, d, labels, { k: NEIGHBOURS, pairThreshold: DUPLICATE_SIMILARITY, chunk: 512, maxPairs: LIST_LIMIT, runtime });
  const likelyMislabeled: FeatureReview['likelyMislabeled'] = [];
  for (let i = 0; i < n; i++) {
    const votes = new Map<number, number>();
    let counted = 0;
    for (let p = 0; p < NEIGHBOURS; p++) {
      const j = neighbours[i * NEIGHBOURS + p];
      if (j < 0) continue;
      counted++;
      votes.set(labels[j], (votes.get(labels[j]) ?? 0) + 1);
    }
    if (counted < NEIGHBOURS) continue;
    const [suggested, count] = [...votes].sort((a, b) => b[1] - a[1])[0];
    const agreement = count / NEIGHBOURS;
    if (suggested !== labels[i] && agreement >= MISLABELED_AGREEMENT) {
      likelyMislabeled.push({ id: ids[i], label: classes[labels[i]], suggested: classes[suggested], agreement });
    }
  }
  likelyMislabeled.sort((a, b) => b.agreement - a.agreement || a.id.localeCompare(b.id));
  return {
    likelyMislabeled: likelyMislabeled.slice(0, LIST_LIMIT),
    nearDuplicates: pairs.map((p) => ({ a: ids[p.a], b: ids[p.b], similarity: p.similarity })),
  };
}

/** Every usable image's features as one row of a matrix, read from the features folder (which is then let go). */
async function featureMatrix(dir: string): Promise<{ ids: string[]; labels: number[]; x: Float32Array; d: number; classes: string[] }> {
  const { manifest, features } = await readFeaturesFolder(dir);
  const d = manifest.dim;
  const ids: string[] = [];
  const labels: number[] = [];
  const at: { split: 'train' | 'val'; i: number }[] = [];
  for (const split of ['train', 'val'] as const) {
    manifest.splits[split].files.forEach((f, i) => {
      if (!features[split].usable[i]) return;
      ids.push(f.file);
      labels.push(f.label);
      at.push({ split, i });
    });
  }
  const x = new Float32Array(ids.length * d);
  at.forEach(({ split, i }, row) => x.set(features[split].views[0].subarray(i * d, (i + 1) * d), row * d));
  return { ids, labels, x, d, classes: manifest.classes };
}

/**
 * A run's inspection, computed once and kept in .graft/runs/<run>.inspect.json: its validation
 * predictions (saved when it ended) scored, and the feature review.
 */
export async function inspection(
  cacheDir: string, run: string, validation: ValidationFile, review: () => Promise<FeatureReview>,
): Promise<Inspection> {
  const file = join(cacheDir, `${run}.inspect.json`);
  const cached = await readFile(file, 'utf8').then((t) => JSON.parse(t) as Inspection, () => null);
  if (cached) return cached;
  const { classes, predictions } = validation;
  const { confusion, perClass } = scores(classes, predictions);
  const confidentlyWrong = predictions.filter((p) => p.actual !== p.predicted).sort((a, b) => b.prob - a.prob).slice(0, 100);
  const result: Inspection = { classes, confusion, perClass, predictions, confidentlyWrong, ...(await review()) };
  await writeFileAtomic(file, [Buffer.from(JSON.stringify(result))]);
  return result;
}

export async function forgetInspection(cacheDir: string, run: string): Promise<void> {
  await rm(join(cacheDir, `${run}.inspect.json`), { force: true });
}
