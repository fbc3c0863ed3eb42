import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { SampleList } from './dataset.ts';
import { ImageFolder, scanImageFolder, type ImageFolderOptions } from './image-folder.ts';
import { stratifiedSplit, type SplitOptions } from '../split.ts';

export interface DatasetSplits {
  train: SampleList;
  val: SampleList;
  test?: SampleList;
  classes: readonly string[];
  /**
   * How the splits were obtained: found as folders, validation held out from a train/ folder
   * (beside a test/ one, or alone), or everything drawn from one folder.
   */
  source: 'folders' | 'train-split' | 'split';
}

const SPLIT_NAMES = { train: ['train', 'training'], val: ['val', 'valid', 'validation'], test: ['test', 'testing'] };

function findSubfolder(root: string, names: string[]): string | undefined {
  for (const n of names) {
    const p = path.join(root, n);
    if (existsSync(p) && statSync(p).isDirectory()) return p;
  }
  return undefined;
}

/** A split folder scanned with the training classes. */
function scanned(dir: string, options: ImageFolderOptions, classes: readonly string[]): SampleList {
  const found = scanImageFolder(dir, { ...options, classes });
  return new SampleList(dir, classes, found.samples, false, found.skipped);
}

/**
 * Train/val(/test) from a root: its train/ and val/ (and test/) subfolders when present, each an
 * ImageFolder sharing train's class indices; a train/ without val/ (the usual train/ + test/
 * layout) gives up `valFraction` of each class to validation, drawn as from one folder; otherwise
 * the root itself is one ImageFolder split by `stratifiedSplit`.
 */
export function loadImageFolders(root: string, options: ImageFolderOptions & SplitOptions = {}): DatasetSplits {
  const trainDir = findSubfolder(root, SPLIT_NAMES.train);
  const valDir = findSubfolder(root, SPLIT_NAMES.val);
  const testDir = findSubfolder(root, SPLIT_NAMES.test);
  if (trainDir) {
    const train = new ImageFolder(trainDir, options);
    const test = testDir ? scanned(testDir, options, train.classes) : undefined;
    if (valDir) return { train, val: scanned(valDir, options, train.classes), test, classes: train.classes, source: 'folders' };
    return { ...drawSplits(train, test ? { ...options, testFraction: 0 } : options), ...(test ? { test } : {}), source: 'train-split' };
  }
  return { ...drawSplits(new ImageFolder(root, options), options), source: 'split' };
}

/**
 * Splits one scanned folder by `stratifiedSplit`; the scan's skipped files go with the training
 * side, so they are reported once.
 */
function drawSplits(all: ImageFolder, options: SplitOptions): Omit<DatasetSplits, 'source'> {
  const split = stratifiedSplit(all.samples, all.root, options);
  const make = (s: typeof split.train, skipped: SampleList['skipped'] = []) => new SampleList(all.root, all.classes, s, false, skipped);
  return {
    train: make(split.train, all.skipped),
    val: make(split.val),
    test: (options.testFraction ?? 0) > 0 ? make(split.test) : undefined,
    classes: all.classes,
  };
}
