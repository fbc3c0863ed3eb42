import { realpathSync } from 'node:fs';
import { dirname, extname, join, relative, isAbsolute } from 'node:path';
import { IMG_EXTENSIONS } from '../data/datasets/image-folder.ts';
import { badRequest, quoted } from './http-error.ts';

/** Folder names that make a data folder a train/ + val/ layout (as loadImageFolders reads it). */
const SPLIT_FOLDERS: Record<string, 'train' | 'val' | 'test'> = {
  train: 'train', training: 'train', val: 'val', valid: 'val', validation: 'val', test: 'test', testing: 'test',
};

/** The split a folder name stands for, or null. */
export const splitOf = (folder: string): 'train' | 'val' | 'test' | null => (Object.hasOwn(SPLIT_FOLDERS, folder) ? SPLIT_FOLDERS[folder] : null);

const CONTROL = /[\u0000-\u001f\u007f]/;

/** Why a single path component is refused, or null: empty, `.`/`..`, hidden, or with a separator or control character. */
export function componentProblem(name: string): string | null {
  if (name === '') return 'an empty name';
  if (name === '.' || name === '..') return 'a name that leaves its folder';
  if (name.startsWith('.')) return 'a hidden name (starting with ".")';
  if (/[\\/]/.test(name)) return 'a name with a path separator';
  if (CONTROL.test(name)) return 'a name with a control character';
  if (name.length > 255) return 'a name longer than 255 characters';
  return null;
}

/** Whether a file name has one of the extensions the data loader reads. */
export const isImageName = (name: string) => IMG_EXTENSIONS.includes(extname(name).toLowerCase());

/**
 * A class name as a folder name: refused when it is not one plain, visible component, and, in
 * the folders layout, when it is a split's name (a class `train` would turn the project into a
 * train/ + val/ layout).
 */
export function checkClassName(name: unknown, field = 'name'): string {
  if (typeof name !== 'string') throw badRequest(`Expected a class name for ${field} but received ${name === null ? 'null' : typeof name}`);
  const problem = componentProblem(name) ?? (name.length > 100 ? 'a name longer than 100 characters' : null)
    ?? (splitOf(name.toLowerCase()) ? `a split's name (${Object.keys(SPLIT_FOLDERS).join(', ')} name the train/ + val/ layout)` : null);
  if (problem) throw badRequest(`Expected a class name for ${field} (one folder name) but received ${quoted(name)}: ${problem}`);
  return name;
}

/**
 * The path components of an image id (`ants/0001.jpg`, `train/ants/0001.jpg`), checked before
 * any file is touched: no component may leave its folder or be hidden, the file must be named
 * like an image, and there must be a class folder (and a split folder in the splits layout).
 */
export function imageIdParts(id: unknown, splits: boolean, field = 'id'): string[] {
  if (typeof id !== 'string') throw badRequest(`Expected an image id for ${field} but received ${id === null ? 'null' : typeof id}`);
  if (id.length > 1024) throw badRequest(`Expected an image id for ${field} but received one of ${id.length} characters`);
  const parts = id.split('/');
  for (const part of parts) {
    const problem = componentProblem(part);
    if (problem) throw badRequest(`Expected an image id below the data folder for ${field} but received ${quoted(id)}: ${problem}`);
  }
  const depth = splits ? 3 : 2;
  if (parts.length < depth) throw badRequest(`Expected an image id of the form ${splits ? 'split/class/file' : 'class/file'} for ${field} but received ${quoted(id)}`);
  if (splits && !splitOf(parts[0])) throw badRequest(`Expected an image id starting with a split folder (train/, val/, test/) for ${field} but received ${quoted(id)}`);
  if (!isImageName(parts[parts.length - 1])) throw badRequest(`Expected an image id naming an image file (${IMG_EXTENSIONS.join(', ')}) for ${field} but received ${quoted(id)}`);
  return parts;
}

function within(root: string, p: string): boolean {
  const r = relative(root, p);
  return r === '' || (!r.startsWith('..') && !isAbsolute(r));
}

/** The real path of `p`, or of its nearest existing ancestor with the rest appended (for files to be created). */
function realOrAncestor(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    const parent = dirname(p);
    if (parent === p) return p;
    return join(realOrAncestor(parent), p.slice(parent.length + 1));
  }
}

/**
 * `parts` joined below `root`, refused when the result, links followed, is anywhere else: the
 * parts are already plain names, so only a symbolic link inside the project could lead out.
 */
export function confined(root: string, parts: readonly string[], what: string): string {
  const p = join(root, ...parts);
  if (!within(root, p) || !within(realOrAncestor(root), realOrAncestor(p))) {
    throw badRequest(`${what} ${quoted(parts.join('/'))} leads outside the project folder`);
  }
  return p;
}
