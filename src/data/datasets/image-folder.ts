import { existsSync, readdirSync, statSync, type Stats } from 'node:fs';
import path from 'node:path';
import { invalidType } from '../../errors/index.ts';
import { unreadableReason } from '../regular-file.ts';
import { DatasetError, SampleList, type DatasetSample, type SkippedFile } from './dataset.ts';

/** torchvision's IMG_EXTENSIONS, matched case-insensitively. GIF is not among them, as in torchvision. */
export const IMG_EXTENSIONS: readonly string[] = ['.jpg', '.jpeg', '.png', '.ppm', '.bmp', '.pgm', '.tif', '.tiff', '.webp'];

/**
 * Images torchvision's ImageFolder leaves out by extension: reported as skipped, unlike other
 * files (notes, CSVs), since someone who put them there expects them to count.
 */
const LEFT_OUT_EXTENSIONS: readonly string[] = ['.gif'];

export interface ImageFolderOptions {
  extensions?: readonly string[];
  /** Use these classes (e.g. the training set's) instead of the folder names found. */
  classes?: readonly string[];
  /** A single class is normally an error: a classifier needs two. */
  allowSingleClass?: boolean;
}

const isHidden = (name: string) => name.startsWith('.');

/** Python's sorted() on str compares code points; localeCompare would not. */
export function codePointCompare(a: string, b: string): number {
  const x = [...a];
  const y = [...b];
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = x[i].codePointAt(0)! - y[i].codePointAt(0)!;
    if (d !== 0) return d;
  }
  return x.length - y.length;
}

/**
 * torchvision's ImageFolder: one folder per class under `root`, classes in sorted order, images
 * found recursively in sorted order. Hidden files and folders are ignored. Layout problems (no
 * classes, an empty class, a single class) are errors here, before any image is decoded. Only
 * regular files become samples: a pipe, a device or a file above the size limit named like an
 * image is in `skipped` with the reason, and so is a GIF.
 */
export class ImageFolder extends SampleList {
  constructor(root: string, options: ImageFolderOptions = {}) {
    if (typeof root !== 'string') throw invalidType('root', 'a folder path', root);
    const scanned = scanImageFolder(root, options);
    super(root, scanned.classes, scanned.samples, false, scanned.skipped);
  }
}

export interface ScannedFolder {
  classes: string[];
  samples: DatasetSample[];
  skipped: SkippedFile[];
}

export function scanImageFolder(root: string, options: ImageFolderOptions = {}): ScannedFolder {
  if (!existsSync(root) || !statSync(root).isDirectory()) throw new DatasetError(`Dataset folder ${root} does not exist or is not a folder`);
  const extensions = (options.extensions ?? IMG_EXTENSIONS).map((e) => e.toLowerCase());
  const found = readdirSync(root, { withFileTypes: true })
    .filter((d) => !isHidden(d.name) && isDirectory(path.join(root, d.name)))
    .map((d) => d.name)
    .sort(codePointCompare);
  const classes = options.classes ? [...options.classes] : found;
  if (classes.length === 0) throw new DatasetError(`No class folders found in ${root}: expected one subfolder per class (root/ants/*.jpg, root/bees/*.jpg)`);
  if (options.classes) {
    const unknown = found.filter((c) => !classes.includes(c));
    if (unknown.length) throw new DatasetError(`Class folder(s) ${unknown.map((c) => JSON.stringify(c)).join(', ')} in ${root} are not among the expected classes ${JSON.stringify(classes)}`);
  } else if (classes.length === 1 && !options.allowSingleClass) {
    throw new DatasetError(`Found only one class (${JSON.stringify(classes[0])}) in ${root}: a classifier needs at least two class folders`);
  }
  const samples: DatasetSample[] = [];
  const skipped: SkippedFile[] = [];
  const empty: string[] = [];
  classes.forEach((name, target) => {
    const dir = path.join(root, name);
    const files = existsSync(dir) ? listImages(dir, extensions, skipped) : [];
    if (files.length === 0 && !options.classes) empty.push(name);
    for (const file of files) samples.push({ path: file, target });
  });
  if (empty.length) {
    throw new DatasetError(`Found no valid image file for class(es) ${empty.map((c) => JSON.stringify(c)).join(', ')} in ${root} (supported extensions: ${extensions.join(', ')})`);
  }
  if (samples.length === 0) throw new DatasetError(`No images found in ${root} (supported extensions: ${extensions.join(', ')})`);
  return { classes, samples, skipped };
}

/** The stat of what `p` names, symbolic links followed (as torchvision's os.walk(followlinks=True)); null when that fails. */
function statOrNull(p: string): Stats | null {
  try {
    return statSync(p);
  } catch {
    return null;
  }
}

function isDirectory(p: string): boolean {
  return statOrNull(p)?.isDirectory() ?? false;
}

/**
 * Image files under `dir`, recursively, sorted like os.walk with sorted names; the files named
 * like images that cannot be read as one go to `skipped`. A name whose stat fails (a dangling
 * link) stays a sample, for the loader to report as not found.
 */
export function listImages(dir: string, extensions: readonly string[], skipped: SkippedFile[], seen = new Set<string>()): string[] {
  const real = safeRealpath(dir);
  if (seen.has(real)) return []; // a symlink cycle
  seen.add(real);
  const entries = readdirSync(dir, { withFileTypes: true }).filter((d) => !isHidden(d.name)).map((d) => d.name).sort(codePointCompare);
  const files: string[] = [];
  const subdirs: string[] = [];
  for (const name of entries) {
    const full = path.join(dir, name);
    const stats = statOrNull(full);
    const extension = path.extname(name).toLowerCase();
    if (stats?.isDirectory()) subdirs.push(full);
    else if (!extensions.includes(extension)) {
      if (LEFT_OUT_EXTENSIONS.includes(extension)) skipped.push({ file: full, reason: `${extension} files are not read, as torchvision's ImageFolder does not read them`, byExtension: true });
    } else {
      const reason = stats && unreadableReason(stats);
      if (reason) skipped.push({ file: full, reason });
      else files.push(full);
    }
  }
  for (const sub of subdirs) files.push(...listImages(sub, extensions, skipped, seen));
  return files;
}

function safeRealpath(p: string): string {
  try {
    return statSync(p).ino + ':' + statSync(p).dev;
  } catch {
    return p;
  }
}
