import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { DatasetError, SampleList } from './dataset.ts';
import { ImageFolder, scanImageFolder, type ImageFolderOptions } from './image-folder.ts';
import { stratifiedSplit, type SplitOptions } from '../split.ts';

export interface DatasetSplits {
  train: SampleList;
  val: SampleList;
  test?: SampleList;
  classes: readonly string[];
  /** How the splits were obtained: found as folders, or drawn from one folder. */
  source: 'folders' | 'split';
}

const SPLIT_NAMES = { train: ['train', 'training'], val: ['val', 'valid', 'validation'], test: ['test', 'testing'] };

function findSubfolder(root: string, names: string[]): string | undefined {
  for (const n of names) {
    const p = path.join(root, n);
    if (existsSync(p) && statSync(p).isDirectory()) return p;
  }
  return undefined;
}

/**
 * Train/val(/test) from a root: its train/ and val/ (and test/) subfolders when present, each an
 * ImageFolder sharing train's class indices; otherwise the root itself as one ImageFolder split by
 * `stratifiedSplit`.
 */
export function loadImageFolders(root: string, options: ImageFolderOptions & SplitOptions = {}): DatasetSplits {
  const trainDir = findSubfolder(root, SPLIT_NAMES.train);
  const valDir = findSubfolder(root, SPLIT_NAMES.val);
  const testDir = findSubfolder(root, SPLIT_NAMES.test);
  if (trainDir) {
    if (!valDir) throw new DatasetError(`Found ${trainDir} but no val/ beside it; add one, or put the class folders directly in ${root} to split them`);
    const train = new ImageFolder(trainDir, options);
    const withClasses = { ...options, classes: train.classes };
    const val = new SampleList(valDir, train.classes, scanImageFolder(valDir, withClasses).samples);
    const test = testDir ? new SampleList(testDir, train.classes, scanImageFolder(testDir, withClasses).samples) : undefined;
    return { train, val, test, classes: train.classes, source: 'folders' };
  }
  const all = new ImageFolder(root, options);
  const split = stratifiedSplit(all.samples, root, options);
  const make = (s: typeof split.train) => new SampleList(root, all.classes, s);
  return {
    train: make(split.train),
    val: make(split.val),
    test: (options.testFraction ?? 0) > 0 ? make(split.test) : undefined,
    classes: all.classes,
    source: 'split',
  };
}
