import { mkdtemp, rmdir, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { invalidParameter, received } from '../errors/index.ts';
import { recoverModelFolder } from '../artifacts/model-folder.ts';

/** The closest folder at or above `path` that exists, with what is there when it is not a folder. */
async function nearestExisting(path: string): Promise<{ dir: string; notFolder: string | null }> {
  for (let p = path; ; p = dirname(p)) {
    const st = await stat(p).catch(() => null);
    if (st) return { dir: p, notFolder: st.isDirectory() ? null : p };
    if (dirname(p) === p) return { dir: p, notFolder: null };
  }
}

/** Creates and removes a folder in `dir`: the one check that answers for permissions, read-only mounts and pseudo file systems alike. */
async function canCreateIn(dir: string): Promise<string | null> {
  try {
    await rmdir(await mkdtemp(join(dir, '.graft-write-check-')));
    return null;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code ?? (e as Error).message;
  }
}

/**
 * Checks, before any work, that the model folder `out` (absolute) can be written: not an existing
 * file, and writable if it exists, creatable where it goes if not, so that a run never trains for
 * an hour to fail on saving (or hangs on a pseudo file system such as /proc). It also puts back in
 * order what an earlier run killed while writing `out` left. Creates nothing.
 */
export async function prepareOutputFolder(out: string): Promise<void> {
  const where = await nearestExisting(out);
  if (where.notFolder === out) throw invalidParameter('out', 'a folder to write the model into', received(`${out}, an existing file`));
  if (where.notFolder) throw invalidParameter('out', 'a folder that can be created', received(`${out}, below ${where.notFolder}, which is a file`));
  const why = await canCreateIn(where.dir);
  if (why) {
    const what = where.dir === out ? `${out}, a folder that cannot be written (${why})` : `${out}: nothing can be created in ${where.dir} (${why})`;
    throw invalidParameter('out', 'a folder that can be created and written', received(what));
  }
  await recoverModelFolder(out);
}
