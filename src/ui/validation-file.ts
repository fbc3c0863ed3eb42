import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../formats/atomic-write.ts';
import type { TrainResult } from '../train/fit.ts';
import type { ImagePrediction } from './api.ts';

/** What a run kept of its validation split: the kept epoch's prediction of every image, by id. */
export interface ValidationFile { classes: string[]; predictions: ImagePrediction[] }

const fileOf = (dir: string, run: string) => join(dir, `${run}.val.json`);

/** Written when the run ends, beside its log: what Inspect shows of the validation split. */
export async function saveValidation(dir: string, run: string, result: TrainResult, idOf: (file: string) => string): Promise<void> {
  const classes = [...result.classes];
  const predictions = result.best.predictions.map((p, i) => ({
    id: idOf(result.best.files[i]), actual: classes[p.actual], predicted: classes[p.predicted], prob: p.prob,
  }));
  const body: ValidationFile = { classes, predictions };
  await writeFileAtomic(fileOf(dir, run), [Buffer.from(JSON.stringify(body))]);
}

export async function readValidation(dir: string, run: string): Promise<ValidationFile | null> {
  try {
    return JSON.parse(await readFile(fileOf(dir, run), 'utf8')) as ValidationFile;
  } catch {
    return null;
  }
}
