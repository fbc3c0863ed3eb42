import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { splitOf } from './names.ts';

export type Layout = 'folders' | 'splits';

export interface SplitFolder { folder: string; split: 'train' | 'val' | 'test' }

const isDir = (p: string) => {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
};

/**
 * Where a project keeps what: its images under `data` (class folders, or an existing train/ +
 * val/ layout used as it is, which may also be the project folder itself), trained model folders
 * under `runs/`, and caches under a hidden `.graft/`. A missing or empty folder becomes a new
 * project with an empty data/.
 */
export class ProjectFolder {
  readonly root: string;
  readonly name: string;
  readonly dataDir: string;
  readonly layout: Layout;
  readonly runsDir: string;
  readonly graftDir: string;

  constructor(dir: string) {
    this.root = resolve(dir);
    this.name = basename(this.root);
    mkdirSync(this.root, { recursive: true });
    const data = join(this.root, 'data');
    if (isDir(data)) {
      this.dataDir = data;
    } else if (splitFoldersOf(this.root).some((s) => s.split === 'train')) {
      this.dataDir = this.root;
    } else {
      mkdirSync(data, { recursive: true });
      this.dataDir = data;
    }
    this.layout = splitFoldersOf(this.dataDir).some((s) => s.split === 'train') ? 'splits' : 'folders';
    this.runsDir = join(this.root, 'runs');
    this.graftDir = join(this.root, '.graft');
    for (const d of [this.runsDir, this.graftDir]) mkdirSync(d, { recursive: true });
  }

  /** The split folders of the data (splits layout), as named on disk. */
  splits(): SplitFolder[] {
    return this.layout === 'splits' ? splitFoldersOf(this.dataDir) : [];
  }

  /** The folders that hold class folders: the split folders, or the data folder itself. */
  classParents(): { dir: string; prefix: string; split: SplitFolder['split'] | null }[] {
    if (this.layout === 'folders') return [{ dir: this.dataDir, prefix: '', split: null }];
    return this.splits().map((s) => ({ dir: join(this.dataDir, s.folder), prefix: `${s.folder}/`, split: s.split }));
  }

  /** Where new images of a class go: its folder, under train/ in the splits layout. */
  uploadParts(className: string): string[] {
    if (this.layout === 'folders') return [className];
    return [this.splits().find((s) => s.split === 'train')!.folder, className];
  }

  /** A cache folder under .graft/, created. */
  cache(...parts: string[]): string {
    const dir = join(this.graftDir, ...parts);
    mkdirSync(dir, { recursive: true });
    return dir;
  }
}

function splitFoldersOf(dir: string): SplitFolder[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((n) => splitOf(n) !== null && isDir(join(dir, n)))
    .sort()
    .map((folder) => ({ folder, split: splitOf(folder)! }));
}
