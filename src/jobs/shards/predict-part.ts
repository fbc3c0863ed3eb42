import { join } from 'node:path';
import type { Prediction } from '../predict.ts';

/** Where the parts of a batch prediction into `out` are kept until they are joined: beside it. */
export const partsFolder = (out: string) => `${out}.parts`;
export const partPath = (out: string, name: string) => join(partsFolder(out), `${name}.jsonl`);

/** One line of results: the file, its top-k, or why it could not be classified. */
export interface PredictionLine { file: string; top: { index: number; label: string; prob: number }[]; error?: string }

export function encodePart(predictions: readonly Prediction[]): string {
  return predictions.map((p) => JSON.stringify({ file: p.file, top: p.top, ...(p.error ? { error: p.error } : {}) })).join('\n') + '\n';
}

/**
 * A part's lines, checked against the files planned for it (one line each, in order), so a part
 * from another run or cut short is refused with its file and line.
 */
export function decodePart(text: string, path: string, files: readonly string[]): PredictionLine[] {
  const lines = text.endsWith('\n') ? text.slice(0, -1).split('\n') : null;
  if (!lines || lines.length !== files.length) {
    const found = lines ? `${lines.length} lines` : 'a last line without its newline (cut short?)';
    throw new RangeError(`${path} should hold ${files.length} lines, each ending in a newline, but holds ${found}`);
  }
  return lines.map((line, i) => {
    let p: PredictionLine;
    try {
      p = JSON.parse(line) as PredictionLine;
    } catch {
      throw new RangeError(`${path} line ${i + 1} is not JSON`);
    }
    if (typeof p !== 'object' || p === null || p.file !== files[i] || !Array.isArray(p.top)) {
      throw new RangeError(`${path} line ${i + 1} should be the prediction for ${files[i]} but is ${line.slice(0, 120)}`);
    }
    return p;
  });
}
