import { readdirSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { codePointCompare, IMG_EXTENSIONS, listImages } from '../data/datasets/image-folder.ts';
import type { SkippedFile } from '../data/datasets/dataset.ts';
import type { BadFile, ClassInfo, ImageInfo } from './api.ts';
import type { ProjectFolder } from './project-folder.ts';

/** An image as the index holds it: what the API shows, and what the thumbnail cache is keyed by. */
export interface IndexedImage extends ImageInfo {
  path: string;
  mtimeMs: number;
}

/** How far behind a folder's mtime must be before it is trusted to change with the next write (FAT keeps two seconds). */
const MTIME_TRUST_MS = 2000;

const statOrNull = (p: string) => {
  try {
    return statSync(p);
  } catch {
    return null;
  }
};

/**
 * The project's images, scanned once and kept in memory, so listing a page of 20,000 images does
 * not walk the folder again. It is rescanned when a class folder's (or the data folder's) mtime
 * changes, which catches files added or removed by hand; the server's own changes update it
 * directly. Bad files are the scan's skipped files (not regular files, GIFs) plus the files found
 * unreadable since (by the header check, a thumbnail or a training run), by id.
 *
 * A folder's mtime comes from the kernel's coarse clock (and some file systems keep whole
 * seconds), so a file written by hand in the same tick as the server's own change, or as the
 * scan, leaves the mtime the stamp already holds. As git does for its "racily clean" entries, a
 * stamp that holds an mtime too close to the moment it was taken is trusted only until that
 * moment is far enough behind, and the index is then scanned once more.
 */
export class DataIndex {
  private images = new Map<string, IndexedImage>();
  private ordered: IndexedImage[] | null = null;
  private classNames: string[] = [];
  private skipped: BadFile[] = [];
  private readonly unreadable = new Map<string, string>();
  private stamp = '';
  /** When a stamp taken too close to its folders' changes has to be checked by a scan; 0 when it need not be. */
  private recheckAt = 0;
  /** Counts the scans, so the owner can tell that one happened. */
  scans = 0;

  constructor(private readonly project: ProjectFolder) {
    this.scan();
  }

  /** Rescans when a folder changed behind the server's back. */
  fresh(): this {
    if (this.currentStamp().stamp !== this.stamp || (this.recheckAt !== 0 && Date.now() >= this.recheckAt)) this.scan();
    return this;
  }

  /** Reads the data folder again, from scratch. */
  scan(): void {
    // Stamped before the listing: a file added while it runs changes the stamp, and is seen next time.
    this.takeStamp();
    const images = new Map<string, IndexedImage>();
    const classes = new Set<string>();
    const skipped: SkippedFile[] = [];
    for (const parent of this.project.classParents()) {
      for (const cls of classFolders(parent.dir)) {
        classes.add(cls);
        for (const file of listImages(join(parent.dir, cls), IMG_EXTENSIONS, skipped)) {
          const st = statOrNull(file);
          if (!st) continue;
          const id = this.idOf(file);
          images.set(id, { id, class: cls, split: parent.split, bytes: st.size, path: file, mtimeMs: st.mtimeMs });
        }
      }
    }
    this.images = images;
    this.ordered = null;
    this.classNames = [...classes].sort(codePointCompare);
    this.skipped = skipped.map((s) => ({ id: this.idOf(s.file), reason: s.reason }));
    this.scans++;
  }

  /** The id of a file below the data folder. */
  idOf(file: string): string {
    return relative(this.project.dataDir, file).split(sep).join('/');
  }

  get classes(): readonly string[] {
    return this.classNames;
  }

  get size(): number {
    return this.images.size;
  }

  get(id: string): IndexedImage | undefined {
    return this.images.get(id);
  }

  /** Every image, in class order, then by path. */
  all(): readonly IndexedImage[] {
    this.ordered ??= [...this.images.values()].sort((a, b) => codePointCompare(a.class, b.class) || codePointCompare(a.id, b.id));
    return this.ordered;
  }

  classInfo(name: string): ClassInfo {
    const of = this.all().filter((i) => i.class === name);
    return { name, count: of.length, samples: of.slice(0, 4).map((i) => i.id) };
  }

  classInfos(): ClassInfo[] {
    const by = new Map<string, IndexedImage[]>(this.classNames.map((c) => [c, []]));
    for (const image of this.all()) by.get(image.class)?.push(image);
    return this.classNames.map((name) => ({ name, count: by.get(name)!.length, samples: by.get(name)!.slice(0, 4).map((i) => i.id) }));
  }

  bad(): BadFile[] {
    return [...this.skipped, ...[...this.unreadable].filter(([id]) => this.images.has(id)).map(([id, reason]) => ({ id, reason }))];
  }

  /** Records a file found unreadable; true when it was not known to be. */
  markBad(id: string, reason: string): boolean {
    if (this.unreadable.get(id) === reason) return false;
    this.unreadable.set(id, reason);
    return true;
  }

  isBad(id: string): boolean {
    return this.unreadable.has(id);
  }

  /** A file the server wrote (an upload, a move's destination). */
  add(image: Omit<IndexedImage, 'bytes' | 'mtimeMs'>): IndexedImage {
    const st = statSync(image.path);
    const entry = { ...image, bytes: st.size, mtimeMs: st.mtimeMs };
    if (!this.classNames.includes(image.class)) this.classNames = [...this.classNames, image.class].sort(codePointCompare);
    this.images.set(entry.id, entry);
    this.ordered = null;
    this.unreadable.delete(entry.id);
    this.takeStamp();
    return entry;
  }

  /** A file the server removed (a deletion, a move's source). */
  remove(id: string): void {
    this.images.delete(id);
    this.unreadable.delete(id);
    this.ordered = null;
    this.takeStamp();
  }

  private takeStamp(): void {
    const takenAt = Date.now();
    const { stamp, mtimes } = this.currentStamp();
    this.stamp = stamp;
    // Only an mtime near the moment can be left unchanged by the next write: one far in the past or
    // the future (a skewed clock, a copied tree) changes with it, and must not make every request rescan.
    this.recheckAt = mtimes.some((m) => Math.abs(m - takenAt) < MTIME_TRUST_MS) ? takenAt + MTIME_TRUST_MS : 0;
  }

  /** The mtimes of the folders whose entries are the classes and their images, joined, and as numbers. */
  private currentStamp(): { stamp: string; mtimes: number[] } {
    const parts: string[] = [];
    const mtimes: number[] = [];
    const mtimeOf = (dir: string) => {
      const mtime = statOrNull(dir)?.mtimeMs;
      if (mtime !== undefined) mtimes.push(mtime);
      return mtime;
    };
    parts.push(String(mtimeOf(this.project.dataDir)));
    for (const parent of this.project.classParents()) {
      parts.push(`${parent.dir}:${mtimeOf(parent.dir)}`);
      for (const cls of classFolders(parent.dir)) parts.push(`${cls}:${mtimeOf(join(parent.dir, cls))}`);
    }
    return { stamp: parts.join('|'), mtimes };
  }
}

/** The visible folders of `dir`, links followed, sorted as ImageFolder sorts classes. */
function classFolders(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names.filter((n) => !n.startsWith('.') && statOrNull(join(dir, n))?.isDirectory()).sort(codePointCompare);
}
