import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { copyFile, link, lstat, mkdir, readdir, readlink, rename, rm, symlink } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve, isAbsolute } from 'node:path';
import { processAlive } from '../formats/atomic-write.ts';

/**
 * Replacing a folder so that a reader, or a process killed at any moment, sees the old folder or
 * the new one, never a mix: the new folder is written beside the old under a name of its own,
 * then the two are swapped by renames. Between those two renames the folder is briefly absent;
 * `recoverFolder`, run before the next write or read, finishes the swap a kill interrupted.
 */

type Side = 'new' | 'old';

/** `.<name>.graft-<new|old>-<pid>-<8 hex>`, beside the folder: the same file system, so renames are atomic. */
const LEFTOVER = /^\.(.+)\.graft-(new|old)-(\d+)-[0-9a-f]{8}$/;

function sibling(dir: string, side: Side): string {
  return join(dirname(dir), `.${basename(dir)}.graft-${side}-${process.pid}-${randomBytes(4).toString('hex')}`);
}

async function leftovers(dir: string): Promise<{ path: string; side: Side; pid: number }[]> {
  const names = await readdir(dirname(dir)).catch(() => [] as string[]);
  return names.flatMap((name) => {
    const m = LEFTOVER.exec(name);
    return m && m[1] === basename(dir) ? [{ path: join(dirname(dir), name), side: m[2] as Side, pid: Number(m[3]) }] : [];
  });
}

/**
 * Finishes or undoes a swap of `dir` that a killed process left halfway: when `dir` is missing,
 * a complete new folder (one holding `marker`, written last) takes its place, else the old one
 * comes back. Then the leftovers of writers that are gone are removed; a live writer's are kept.
 */
export async function recoverFolder(dir: string, marker: string): Promise<void> {
  const dead = (await leftovers(dir)).filter((l) => !processAlive(l.pid));
  if (dead.length === 0) return;
  if (!existsSync(dir)) {
    const complete = dead.find((l) => l.side === 'new' && existsSync(join(l.path, marker)));
    const back = complete ?? dead.find((l) => l.side === 'old');
    if (back) await rename(back.path, dir);
  }
  for (const l of dead) await rm(l.path, { recursive: true, force: true });
}

/** Hard links where the file system allows (the old folder is removed next), copies elsewhere. */
async function linkTree(from: string, to: string): Promise<void> {
  const st = await lstat(from);
  if (st.isDirectory()) {
    await mkdir(to);
    for (const name of await readdir(from)) await linkTree(join(from, name), join(to, name));
  } else if (st.isSymbolicLink()) {
    await symlink(await readlink(from), to);
  } else if (st.isFile()) {
    await link(from, to).catch(() => copyFile(from, to));
  }
}

/** Renaming the folder the process runs in (`--out .`) would move the working directory away. */
function holdsWorkingDirectory(dir: string): boolean {
  const rel = relative(resolve(dir), process.cwd());
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

export interface ReplaceFolderOptions {
  /** The file `write` writes last: a folder holding it is complete. */
  marker: string;
  /** Entries of the folder being replaced that the new one keeps (those `write` did not write). */
  carry: (name: string) => boolean;
}

/** Errors that say the folder above takes no new entries, though the folder itself may. */
const NO_ENTRIES_ABOVE = new Set(['EACCES', 'EPERM', 'EROFS']);

/**
 * Replaces `dir` (created when missing) by the folder `write` fills. `write` gets an empty folder
 * and writes `marker` last. If `write` throws, `dir` is untouched. Where `dir` cannot be swapped
 * (the process runs inside it, or the folder above takes no new entries), `write` fills `dir`
 * itself after `marker` is removed, so the folder is incomplete rather than inconsistent while
 * it is rewritten.
 */
export async function replaceFolder(dir: string, write: (into: string) => Promise<void>, { marker, carry }: ReplaceFolderOptions): Promise<void> {
  await recoverFolder(dir, marker);
  const inPlace = async () => {
    await rm(join(dir, marker), { force: true });
    await write(dir);
  };
  if (holdsWorkingDirectory(dir)) return inPlace();
  await mkdir(dirname(resolve(dir)), { recursive: true });
  const stage = sibling(dir, 'new');
  try {
    await mkdir(stage);
  } catch (error) {
    if (existsSync(dir) && NO_ENTRIES_ABOVE.has((error as NodeJS.ErrnoException).code ?? '')) return inPlace();
    throw error;
  }
  try {
    await write(stage);
    if (existsSync(dir)) {
      const written = new Set(await readdir(stage));
      for (const name of await readdir(dir)) if (!written.has(name) && carry(name)) await linkTree(join(dir, name), join(stage, name));
    }
  } catch (error) {
    await rm(stage, { recursive: true, force: true });
    // The folder beside is a detail of the writing: messages name the folder the user asked for.
    if (error instanceof Error) error.message = error.message.split(stage).join(resolve(dir));
    throw error;
  }
  if (!existsSync(dir)) {
    await rename(stage, dir);
    return;
  }
  const old = sibling(dir, 'old');
  await rename(dir, old);
  try {
    await rename(stage, dir);
  } catch (error) {
    await rename(old, dir);
    throw error;
  }
  await rm(old, { recursive: true, force: true });
}
