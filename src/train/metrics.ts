/**
 * Classification metrics from predicted scores, computed on the host as each batch arrives:
 * loss, top-1 and top-5 accuracy, balanced accuracy, the confusion matrix and per-class
 * precision/recall/F1.
 */
export interface ClassMetrics { class: string; precision: number; recall: number; f1: number; support: number }

export interface EvalResult {
  loss: number;
  acc: number;
  /**
   * Mean per-class recall over the classes present (scikit-learn's balanced_accuracy_score): on
   * imbalanced data, accuracy rewards predicting the big classes; this weighs every class alike.
   */
  balancedAcc: number;
  top5: number;
  count: number;
  /** [actual][predicted] counts. */
  confusion: number[][];
  perClass: ClassMetrics[];
  /** Per sample: actual class, predicted class and the predicted class's probability. */
  predictions: { actual: number; predicted: number; prob: number }[];
}

export class MetricAccumulator {
  private lossSum = 0;
  private correct = 0;
  private correct5 = 0;
  private n = 0;
  private readonly confusion: number[][];
  private readonly predictions: EvalResult['predictions'] = [];

  constructor(readonly classes: readonly string[]) {
    this.confusion = classes.map(() => new Array<number>(classes.length).fill(0));
  }

  /** Adds a batch: logits [n, C] row-major, labels [n]; the loss is the batch's mean loss. */
  add(logits: Float32Array, labels: ArrayLike<number>, meanLoss: number): void {
    const c = this.classes.length;
    const n = labels.length;
    for (let i = 0; i < n; i++) {
      const row = logits.subarray(i * c, (i + 1) * c);
      const y = labels[i];
      let best = 0;
      let max = -Infinity;
      for (let j = 0; j < c; j++) if (row[j] > max) { max = row[j]; best = j; }
      let above = 0;
      for (let j = 0; j < c; j++) if (row[j] > row[y]) above++;
      let z = 0;
      for (let j = 0; j < c; j++) z += Math.exp(row[j] - max);
      if (best === y) this.correct++;
      if (above < 5) this.correct5++;
      this.confusion[y][best]++;
      this.predictions.push({ actual: y, predicted: best, prob: 1 / z });
    }
    this.lossSum += meanLoss * n;
    this.n += n;
  }

  result(): EvalResult {
    const perClass = this.classes.map((name, k) => {
      const tp = this.confusion[k][k];
      const support = this.confusion[k].reduce((a, b) => a + b, 0);
      const predicted = this.confusion.reduce((a, row) => a + row[k], 0);
      const precision = predicted ? tp / predicted : 0;
      const recall = support ? tp / support : 0;
      const f1 = precision + recall ? (2 * precision * recall) / (precision + recall) : 0;
      return { class: name, precision, recall, f1, support };
    });
    const n = Math.max(this.n, 1);
    const present = perClass.filter((m) => m.support > 0);
    const balancedAcc = present.length ? present.reduce((sum, m) => sum + m.recall, 0) / present.length : 0;
    return {
      loss: this.lossSum / n, acc: this.correct / n, balancedAcc, top5: this.correct5 / n, count: this.n,
      confusion: this.confusion.map((r) => [...r]), perClass, predictions: [...this.predictions],
    };
  }
}

/** Top-5 of five classes or fewer counts every answer as right: it says something only above five. */
export const TOP5_MIN_CLASSES = 6;
export const showsTop5 = (classes: number) => classes >= TOP5_MIN_CLASSES;
