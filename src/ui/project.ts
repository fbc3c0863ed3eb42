import { mkdirSync, renameSync, rmSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { readImageSize, DecodeError } from '../data/decode.ts';
import { PixelBudget } from '../data/pixel-budget.ts';
import { writeFileAtomic } from '../formats/atomic-write.ts';
import type { BadFile, ClassInfo, ImageInfo, ImagePage, Project as ProjectInfo } from './api.ts';
import { DataIndex, type IndexedImage } from './data-index.ts';
import { badRequest, conflict, notFound, quoted } from './http-error.ts';
import { checkClassName, confined, imageIdParts } from './names.ts';
import { ProjectFolder } from './project-folder.ts';
import { Thumbnails } from './thumbnails.ts';
import { freeName, imageProblem, uploadName } from './upload-checks.ts';

export interface ProjectLimits {
  /** Pixels an image may have (checked from its header before decoding). */
  maxPixels: number;
}

export interface PageQuery { class?: string; split?: string; offset: number; limit: number }

/**
 * One project the server works on: its folder, the in-memory index of its images, the thumbnail
 * cache, and every change to its data (classes, uploads, moves, deletions). Ids are checked and
 * confined to the data folder before any file is touched. `onChange` hears of every change.
 */
export class Project {
  readonly folder: ProjectFolder;
  readonly index: DataIndex;
  readonly thumbs: Thumbnails;
  /** Paths being written, so two uploads of the same name at once get different ones. */
  private readonly reserved = new Set<string>();
  /** Files whose header was read (by id, mtime and size). */
  private readonly headerChecked = new Set<string>();
  private checking: Promise<void> | null = null;
  private recheck = false;
  private closed = false;
  private readonly decodeBudget: PixelBudget;

  constructor(dir: string, readonly limits: ProjectLimits, private readonly onChange: () => void = () => {}) {
    this.folder = new ProjectFolder(dir);
    this.index = new DataIndex(this.folder);
    this.thumbs = new Thumbnails(this.folder.cache('thumbs'), limits.maxPixels);
    this.decodeBudget = new PixelBudget(limits.maxPixels);
    this.checkHeaders();
  }

  info(): ProjectInfo {
    const index = this.fresh();
    return { name: this.folder.name, layout: this.folder.layout, classes: index.classInfos(), images: index.size, bad: index.bad() };
  }

  /** The index, rescanned first if a folder changed on disk; new files get their headers read. */
  fresh(): DataIndex {
    const before = this.index.scans;
    this.index.fresh();
    if (this.index.scans !== before) this.checkHeaders();
    return this.index;
  }

  page(q: PageQuery): ImagePage {
    let images: readonly IndexedImage[] = this.fresh().all();
    if (q.class !== undefined) images = images.filter((i) => i.class === q.class);
    if (q.split !== undefined) images = images.filter((i) => i.split === q.split);
    return { total: images.length, offset: q.offset, images: images.slice(q.offset, q.offset + q.limit).map(publicInfo) };
  }

  /** The indexed image an id names (checked first): 400 for a refused id, 404 for one not there. */
  image(id: unknown, field = 'id'): IndexedImage {
    const parts = imageIdParts(id, this.folder.layout === 'splits', field);
    confined(this.folder.dataDir, parts, 'The image id');
    const found = this.fresh().get(parts.join('/'));
    if (!found) throw notFound(`no image ${quoted(id)} in the project`);
    return found;
  }

  createClass(name: unknown): ClassInfo {
    const cls = checkClassName(name);
    if (this.fresh().classes.includes(cls)) throw conflict(`a class named ${quoted(cls)} exists already`);
    mkdirSync(confined(this.folder.dataDir, this.folder.uploadParts(cls), 'The class'), { recursive: true });
    return this.changed(true).classInfo(cls);
  }

  renameClass(from: string, to: unknown): ClassInfo {
    const source = this.existingClass(from);
    const target = checkClassName(to);
    if (target === source) return this.index.classInfo(source);
    if (this.index.classes.includes(target)) throw conflict(`a class named ${quoted(target)} exists already`);
    for (const parent of this.folder.classParents()) {
      const src = confined(parent.dir, [source], 'The class');
      const dst = confined(parent.dir, [target], 'The class');
      try {
        renameSync(src, dst);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      }
    }
    return this.changed(true).classInfo(target);
  }

  deleteClass(name: string): { deleted: number } {
    const cls = this.existingClass(name);
    const deleted = this.index.classInfo(cls).count;
    for (const parent of this.folder.classParents()) rmSync(confined(parent.dir, [cls], 'The class'), { recursive: true, force: true });
    this.changed(true);
    return { deleted };
  }

  /**
   * Adds one uploaded file to a class, or says why not, by the name it was sent under. The file
   * is written under a temporary name and renamed into place; a name taken gets a suffix. A class
   * not there yet is made.
   */
  async addImage(className: unknown, filename: string, bytes: Uint8Array): Promise<{ added: ImageInfo } | { rejected: BadFile }> {
    const named = uploadName(filename);
    const shown = filename.slice(0, 200);
    if ('reason' in named) return { rejected: { id: shown, reason: named.reason } };
    const problem = await imageProblem(bytes, this.limits.maxPixels, this.decodeBudget);
    if (problem) return { rejected: { id: shown, reason: problem } };
    const cls = checkClassName(className, 'class');
    const parts = this.folder.uploadParts(cls);
    const dir = confined(this.folder.dataDir, parts, 'The class');
    mkdirSync(dir, { recursive: true });
    const name = freeName(dir, named.name, this.reserved);
    const path = join(dir, name);
    this.reserved.add(path);
    try {
      await writeFileAtomic(path, [bytes], { sync: false });
    } finally {
      this.reserved.delete(path);
    }
    const entry = this.index.add({ id: this.index.idOf(path), class: cls, split: this.folder.layout === 'splits' ? 'train' : null, path });
    this.headerChecked.add(headerKey(entry));
    return { added: publicInfo(entry) };
  }

  /** Moves images to another class (relabels them), keeping their split; a name taken there gets a suffix. */
  move(ids: unknown, className: unknown): ImageInfo[] {
    const list = this.idList(ids);
    const cls = checkClassName(className, 'class');
    const images = list.map((id, i) => this.image(id, `ids[${i}]`));
    const moved: ImageInfo[] = [];
    for (const image of images) {
      const parts = image.id.split('/');
      const splitParts = this.folder.layout === 'splits' ? [parts[0]] : [];
      const dir = confined(this.folder.dataDir, [...splitParts, cls], 'The class');
      mkdirSync(dir, { recursive: true });
      if (image.class === cls) {
        moved.push(publicInfo(image));
        continue;
      }
      const target = join(dir, freeName(dir, parts[parts.length - 1], this.reserved));
      renameSync(image.path, target);
      this.index.remove(image.id);
      moved.push(publicInfo(this.index.add({ id: this.index.idOf(target), class: cls, split: image.split, path: target })));
    }
    this.changed(false);
    return moved;
  }

  delete(ids: unknown): { deleted: number } {
    const images = this.idList(ids).map((id, i) => this.image(id, `ids[${i}]`));
    for (const image of images) {
      unlinkSync(image.path);
      this.index.remove(image.id);
    }
    this.changed(false);
    return { deleted: images.length };
  }

  /** After an upload request: the others hear of the new images once, not per file. */
  uploaded(): void {
    this.changed(false);
  }

  close(): void {
    this.closed = true;
  }

  /** Waits for the header check of the files known now (tests, and the first page of a fresh project). */
  async headersChecked(): Promise<void> {
    while (this.checking) await this.checking;
  }

  private existingClass(name: string): string {
    const cls = checkClassName(name);
    if (!this.fresh().classes.includes(cls)) throw notFound(`no class named ${quoted(cls)} in the project`);
    return cls;
  }

  private idList(ids: unknown): string[] {
    if (!Array.isArray(ids) || ids.length === 0) throw badRequest('Expected a non-empty array of image ids for ids');
    if (ids.length > 20_000) throw badRequest(`Expected at most 20000 image ids for ids but received ${ids.length}`);
    return ids as string[];
  }

  private changed(rescan: boolean): DataIndex {
    if (rescan) {
      this.index.scan();
      this.checkHeaders();
    }
    this.onChange();
    return this.index;
  }

  /**
   * Reads the header of every file not read yet, in the background, so a file that is not an
   * image at all (a text file named .jpg) shows among the bad files before anything trains on it.
   */
  private checkHeaders(): void {
    if (this.checking) {
      this.recheck = true;
      return;
    }
    this.checking = (async () => {
      let found = false;
      for (let pass = true; pass; pass = this.recheck) {
        this.recheck = false;
        found = (await this.checkHeadersOnce()) || found;
      }
      if (found && !this.closed) this.onChange();
    })().finally(() => { this.checking = null; });
  }

  private async checkHeadersOnce(): Promise<boolean> {
    let found = false;
    for (const image of [...this.index.all()]) {
      if (this.closed) return found;
      const key = headerKey(image);
      if (this.headerChecked.has(key)) continue;
      this.headerChecked.add(key);
      try {
        // Only whether it is an image: the training run decodes it with its own pixel limit.
        await readImageSize(image.path, { maxPixels: Number.MAX_SAFE_INTEGER });
      } catch (e) {
        if (e instanceof DecodeError) found = this.index.markBad(image.id, e.reason) || found;
      }
    }
    return found;
  }

  /** A file a thumbnail or a training run could not read. */
  markBad(id: string, reason: string): void {
    if (this.index.get(id) && this.index.markBad(id, reason)) this.onChange();
  }
}

const headerKey = (image: IndexedImage) => `${image.id}\0${image.mtimeMs}\0${image.bytes}`;
const publicInfo = ({ id, class: cls, split, bytes }: IndexedImage): ImageInfo => ({ id, class: cls, split, bytes });
