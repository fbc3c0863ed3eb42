import { readFileSync } from 'node:fs';
import path from 'node:path';
import { DatasetError, SampleList, type DatasetSample } from './dataset.ts';
import { codePointCompare } from './image-folder.ts';

export interface CsvOptions {
  /** Folder that relative paths are resolved against; default: the CSV's folder. */
  root?: string;
  /** Several labels per image: `path,labels` with labels split by `labelSeparator`, or `path,classA,classB,...` with 0/1 columns. */
  multiLabel?: boolean;
  labelSeparator?: string | RegExp;
  /** A single class is normally an error: a classifier needs two. */
  allowSingleClass?: boolean;
}

const PATH_HEADERS = ['path', 'file', 'filename', 'image', 'img', 'filepath'];

/** RFC 4180 rows: quoted fields may hold commas, quotes ("") and newlines. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') { field += '"'; i++; }
      else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"' && field === '') quoted = true;
    else if (ch === ',') { row.push(field); field = ''; }
    else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      if (row.length > 1 || row[0] !== '') rows.push(row);
      row = [];
      field = '';
    } else field += ch;
  }
  row.push(field);
  if (row.length > 1 || row[0] !== '') rows.push(row);
  return rows.map((r) => r.map((f) => f.trim()));
}

const sortClasses = (names: string[]) =>
  names.every((n) => /^\d+$/.test(n)) ? names.sort((a, b) => Number(a) - Number(b)) : names.sort(codePointCompare);

/**
 * A CSV manifest: `path,label` (one class per image), or a multi-label CSV. Classes are the
 * sorted label names (numerically when all labels are integers). A header row is recognised by
 * its first column (path, file, filename, image).
 */
export function csvDataset(csvPath: string, options: CsvOptions = {}): SampleList {
  let text: string;
  try {
    text = readFileSync(csvPath, 'utf8');
  } catch (error) {
    throw new DatasetError(`Cannot read CSV manifest ${csvPath}: ${(error as Error).message}`);
  }
  const root = options.root ?? path.dirname(csvPath);
  let rows = parseCsv(text.replace(/^\uFEFF/, ''));
  const header = rows.length && PATH_HEADERS.includes(rows[0][0].toLowerCase()) ? rows[0] : null;
  if (header) rows = rows.slice(1);
  if (rows.length === 0) throw new DatasetError(`CSV manifest ${csvPath} lists no images`);
  rows.forEach((r, i) => {
    const line = i + (header ? 2 : 1);
    if (r.length < 2) throw new DatasetError(`CSV manifest ${csvPath}, line ${line}: expected path,label but found ${r.length} column(s)`);
    if (r[0] === '') throw new DatasetError(`CSV manifest ${csvPath}, line ${line}: empty path`);
  });
  const resolve = (p: string) => path.resolve(root, p);
  const wide = options.multiLabel && header !== null && header.length > 2;
  const list = wide ? wideMultiLabel(rows, header!, csvPath, resolve)
    : options.multiLabel ? listMultiLabel(rows, options.labelSeparator ?? /[;|]/, resolve)
    : singleLabel(rows, csvPath, resolve);
  if (list.classes.length < 2 && !options.allowSingleClass) {
    throw new DatasetError(`CSV manifest ${csvPath} has ${list.classes.length} class(es) (${JSON.stringify(list.classes)}): a classifier needs at least two`);
  }
  return new SampleList(root, list.classes, list.samples, !!options.multiLabel);
}

type Built = { classes: string[]; samples: DatasetSample[] };

function singleLabel(rows: string[][], csvPath: string, resolve: (p: string) => string): Built {
  rows.forEach((r, i) => {
    if (r[1] === '') throw new DatasetError(`CSV manifest ${csvPath}: row ${i + 1} (${r[0]}) has an empty label`);
  });
  const classes = sortClasses([...new Set(rows.map((r) => r[1]))]);
  const index = new Map(classes.map((c, i) => [c, i]));
  return { classes, samples: rows.map((r) => ({ path: resolve(r[0]), target: index.get(r[1])! })) };
}

function listMultiLabel(rows: string[][], separator: string | RegExp, resolve: (p: string) => string): Built {
  const labels = rows.map((r) => r.slice(1).join(',').split(separator).map((s) => s.trim()).filter(Boolean));
  const classes = sortClasses([...new Set(labels.flat())]);
  const index = new Map(classes.map((c, i) => [c, i]));
  return { classes, samples: rows.map((r, i) => ({ path: resolve(r[0]), target: labels[i].map((l) => index.get(l)!).sort((a, b) => a - b) })) };
}

function wideMultiLabel(rows: string[][], header: string[], csvPath: string, resolve: (p: string) => string): Built {
  const classes = header.slice(1);
  const samples = rows.map((r, i) => {
    if (r.length !== header.length) throw new DatasetError(`CSV manifest ${csvPath}, line ${i + 2}: expected ${header.length} columns but found ${r.length}`);
    const target: number[] = [];
    r.slice(1).forEach((v, c) => {
      if (v !== '0' && v !== '1') throw new DatasetError(`CSV manifest ${csvPath}, line ${i + 2}: expected 0 or 1 for class ${JSON.stringify(classes[c])} but found ${JSON.stringify(v)}`);
      if (v === '1') target.push(c);
    });
    return { path: resolve(r[0]), target };
  });
  return { classes, samples };
}
