/**
 * What every dataset hands the loader: file paths with targets, and the class names in index
 * order. Multi-label datasets give each sample the indices of all its classes.
 */
export interface DatasetSample {
  path: string;
  /** Class index, or for multi-label datasets the indices of every class present. */
  target: number | readonly number[];
}

/** A file left out, and why: found by a folder scan, or failed to decode. */
export interface SkippedFile {
  file: string;
  reason: string;
  /** Left out for its extension alone (a GIF, as torchvision leaves it), not for being bad: `strict` lets it pass. */
  byExtension?: boolean;
}

export interface ImageDataset {
  readonly root: string;
  readonly classes: readonly string[];
  readonly samples: readonly DatasetSample[];
  readonly multiLabel: boolean;
  /** Files the scan found but left out of `samples` (special files, GIFs); the loader reports them. */
  readonly skipped?: readonly SkippedFile[];
}

/** A dataset built from an explicit sample list (a split of a folder, a filtered manifest). */
export class SampleList implements ImageDataset {
  constructor(
    readonly root: string,
    readonly classes: readonly string[],
    readonly samples: readonly DatasetSample[],
    readonly multiLabel = false,
    readonly skipped: readonly SkippedFile[] = [],
  ) {}

  get classToIdx(): Map<string, number> {
    return new Map(this.classes.map((c, i) => [c, i]));
  }

  /** Number of samples per class, in class order. */
  classCounts(): number[] {
    const counts = new Array<number>(this.classes.length).fill(0);
    for (const s of this.samples) for (const t of typeof s.target === 'number' ? [s.target] : s.target) counts[t]++;
    return counts;
  }
}

/** Errors about a dataset's layout, raised when it is built: before any training starts. */
export class DatasetError extends Error {
  override name = 'DatasetError';
}
