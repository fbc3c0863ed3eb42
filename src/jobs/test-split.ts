import type { SampleList, SkippedFile } from '../data/datasets/dataset.ts';
import { DataLoader } from '../data/loader.ts';
import { evalPreset } from '../data/transforms/presets.ts';
import type { Runtime } from '../runtime/runtime.ts';
import type { TrainResult } from '../train/fit.ts';
import { evaluateImages } from '../train/loops.ts';
import type { EvalResult } from '../train/metrics.ts';

/** The trained model's metrics on the test split, measured once after training. */
export interface TestEvaluation extends EvalResult {
  /** The test folder (or the folder the test split was drawn from). */
  root: string;
  /** The file of every prediction, in order. */
  files: string[];
  skipped: SkippedFile[];
}

export interface TestEvaluationOptions {
  runtime: Runtime;
  signal?: AbortSignal;
  onSkip?: (s: SkippedFile) => void;
}

/**
 * Evaluates the run's kept model (its best epoch, as fit returns it) on the test split, with the
 * validation transform: the test images take no part in choosing the epoch, so this is the
 * figure to expect on new images. A file that cannot be read is skipped and reported even under
 * `strict`: the training is done by now, and failing would throw it away.
 */
export async function evaluateTestSplit(result: TrainResult, test: SampleList, opts: TestEvaluationOptions): Promise<TestEvaluation> {
  const skipped: SkippedFile[] = [];
  const onWarning = (s: SkippedFile) => { skipped.push(s); opts.onSkip?.(s); };
  const loader = new DataLoader(test, {
    batchSize: Math.max(result.config.batchSize, 16), transform: evalPreset(result.preprocessing), onWarning,
  });
  try {
    const r = await opts.runtime.run(() => evaluateImages(result.model, loader, result.classes, opts.signal));
    return { ...r, root: test.root, skipped };
  } finally {
    await loader.close();
  }
}
