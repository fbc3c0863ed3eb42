import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { csvDataset, DatasetError, ImageFolder, loadImageFolders, parseCsv, stratifiedSplit } from '../src/data/index.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const shared = path.resolve(repoRoot, '..', 'shared');
const hymenoptera = path.join(shared, 'data', 'hymenoptera');
const jpg = path.join(repoRoot, 'test', 'fixtures', 'data', 'images', 'rgb.jpg');
const scratch = mkdtempSync(path.join(tmpdir(), 'graft-data-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

let counter = 0;
/** Builds a folder tree: { 'cls/a.jpg': null } copies a JPEG there; a string is written as text. */
function tree(files: Record<string, string | null>): string {
  const root = path.join(scratch, `t${counter++}`);
  for (const [rel, content] of Object.entries(files)) {
    const file = path.join(root, rel);
    mkdirSync(path.dirname(file), { recursive: true });
    if (content === null) copyFileSync(jpg, file);
    else writeFileSync(file, content);
  }
  return root;
}

describe('ImageFolder', () => {
  test('classes sorted by code point, files sorted and found recursively, torchvision extensions only', () => {
    const root = tree({
      'bees/b.JPG': null, 'bees/a.png': null, 'bees/nested/c.jpeg': null, 'Zebra/z.webp': null, 'ants/x.jpg': null,
      'ants/notes.txt': 'x', 'ants/anim.gif': null, 'ants/.hidden.jpg': null, '.cache/k.jpg': null, 'ants/with space.jpg': null,
    });
    const ds = new ImageFolder(root);
    assert.deepEqual(ds.classes, ['Zebra', 'ants', 'bees']);
    assert.deepEqual(ds.samples.map((s) => [path.relative(root, s.path), s.target]), [
      ['Zebra/z.webp', 0], ['ants/with space.jpg', 1], ['ants/x.jpg', 1], ['bees/a.png', 2], ['bees/b.JPG', 2], ['bees/nested/c.jpeg', 2],
    ]);
    assert.deepEqual(ds.classCounts(), [1, 2, 3]);
    assert.deepEqual(ds.skipped.map((s) => [path.relative(root, s.file), s.reason, s.byExtension]), [
      ['ants/anim.gif', ".gif files are not read, as torchvision's ImageFolder does not read them", true],
    ], 'a GIF counts as skipped, with the reason; a .txt is not an image and is not counted');
    const withGif = new ImageFolder(root, { extensions: ['.jpg', '.jpeg', '.png', '.webp', '.gif'] });
    assert.ok(withGif.samples.some((s) => s.path.endsWith('anim.gif')));
  });

  test('layout problems are errors before anything is decoded', () => {
    assert.throws(() => new ImageFolder(path.join(scratch, 'nope')), /does not exist/);
    assert.throws(() => new ImageFolder(tree({ 'a.jpg': null })), /No class folders found/);
    assert.throws(() => new ImageFolder(tree({ 'ants/a.jpg': null, 'bees/readme.txt': 'x' })), /no valid image file for class\(es\) "bees"/);
    assert.throws(() => new ImageFolder(tree({ 'ants/a.jpg': null })), /only one class \("ants"\)/);
    assert.equal(new ImageFolder(tree({ 'ants/a.jpg': null }), { allowSingleClass: true }).samples.length, 1);
    assert.throws(() => new ImageFolder(tree({ 'ants/a.txt': 'x', 'bees/b.txt': 'y' })), DatasetError);
  });
});

describe('train/val folders and splits', () => {
  test('train/ and val/ share the training class indices', () => {
    const root = tree({ 'train/ants/a.jpg': null, 'train/bees/b.jpg': null, 'val/bees/c.jpg': null, 'val/ants/d.jpg': null, 'test/ants/e.jpg': null });
    const s = loadImageFolders(root);
    assert.equal(s.source, 'folders');
    assert.deepEqual(s.val.samples.map((x) => [path.basename(x.path), x.target]), [['d.jpg', 0], ['c.jpg', 1]]);
    assert.deepEqual(s.test!.samples.map((x) => x.target), [0]);
    const unknown = tree({ 'train/ants/a.jpg': null, 'train/bees/b.jpg': null, 'val/wasps/c.jpg': null });
    assert.throws(() => loadImageFolders(unknown), /"wasps" .* not among the expected classes/);
  });

  test('train/ and test/ without val/: validation is held out from train/ as from one folder, test/ kept whole', () => {
    const files: Record<string, null> = {};
    for (let i = 0; i < 20; i++) files[`train/cats/c${i}.jpg`] = files[`train/dogs/d${i}.jpg`] = null;
    for (let i = 0; i < 3; i++) files[`test/cats/t${i}.jpg`] = files[`test/dogs/u${i}.jpg`] = null;
    files['test/dogs/anim.gif'] = null;
    const root = tree(files);
    const s = loadImageFolders(root, { valFraction: 0.25, seed: 4 });
    assert.equal(s.source, 'train-split');
    assert.deepEqual(s.classes, ['cats', 'dogs']);
    assert.equal(s.train.samples.length + s.val.samples.length, 40);
    assert.ok(s.val.samples.some((x) => x.target === 0) && s.val.samples.some((x) => x.target === 1), 'stratified');
    const flat = loadImageFolders(path.join(root, 'train'), { valFraction: 0.25, seed: 4 });
    assert.deepEqual(s.val.samples, flat.val.samples, 'the same files as a split of train/ on its own: hash-stable');
    assert.deepEqual(s.test!.samples.map((x) => [path.basename(x.path), x.target]), [['t0.jpg', 0], ['t1.jpg', 0], ['t2.jpg', 0], ['u0.jpg', 1], ['u1.jpg', 1], ['u2.jpg', 1]]);
    assert.deepEqual(s.test!.skipped.map((x) => path.basename(x.file)), ['anim.gif']);
    // testFraction draws a test split only when there is no test/ to use.
    const withFraction = loadImageFolders(root, { valFraction: 0.25, testFraction: 0.2, seed: 4 });
    assert.equal(withFraction.train.samples.length + withFraction.val.samples.length, 40);
    assert.equal(withFraction.test!.samples.length, 6);
    rmSync(path.join(root, 'test'), { recursive: true });
    const alone = loadImageFolders(root, { valFraction: 0.25, seed: 4 });
    assert.equal(alone.source, 'train-split');
    assert.deepEqual(alone.val.samples, flat.val.samples);
    assert.equal(alone.test, undefined);
  });

  test('a single folder is split by a seeded, stratified hash that is stable when files are added', () => {
    const files: Record<string, null> = {};
    for (let i = 0; i < 60; i++) files[`cats/c${i}.jpg`] = null;
    for (let i = 0; i < 3; i++) files[`rare/r${i}.jpg`] = null;
    const root = tree(files);
    const a = loadImageFolders(root, { valFraction: 0.25, seed: 7 });
    assert.equal(a.source, 'split');
    assert.equal(a.train.samples.length + a.val.samples.length, 63);
    assert.ok(a.val.samples.length >= 8 && a.val.samples.length <= 24, `val ${a.val.samples.length}`);
    assert.ok(a.val.samples.some((s) => s.target === 1), 'the rare class is represented in val');
    assert.ok(a.train.samples.some((s) => s.target === 1), 'and in train');
    const again = loadImageFolders(root, { valFraction: 0.25, seed: 7 });
    assert.deepEqual(again.val.samples, a.val.samples);
    const otherSeed = loadImageFolders(root, { valFraction: 0.25, seed: 8 });
    assert.notDeepEqual(otherSeed.val.samples.map((s) => s.path), a.val.samples.map((s) => s.path));
    for (let i = 60; i < 90; i++) copyFileSync(jpg, path.join(root, 'cats', `c${i}.jpg`));
    const grown = loadImageFolders(root, { valFraction: 0.25, seed: 7 });
    const valBefore = new Set(a.val.samples.filter((s) => s.target === 0).map((s) => s.path));
    const valAfter = new Set(grown.val.samples.map((s) => s.path));
    for (const p of valBefore) assert.ok(valAfter.has(p), `${p} stayed in val`);
    for (const s of grown.train.samples) assert.ok(!valBefore.has(s.path));
  });

  test('fractions are validated', () => {
    assert.throws(() => stratifiedSplit([], '/', { valFraction: 1.5 }), /Expected number between 0 and 1 for valFraction but received 1.5/);
    assert.throws(() => stratifiedSplit([], '/', { valFraction: 0.6, testFraction: 0.5 }), /a sum below 1/);
  });
});

describe('CSV manifests', () => {
  test('path,label with a header, quoted fields and paths relative to the CSV', () => {
    const root = tree({ 'imgs/a.jpg': null, 'imgs/b, c.jpg': null, 'imgs/d.jpg': null });
    const csv = path.join(root, 'labels.csv');
    writeFileSync(csv, 'path,label\nimgs/a.jpg,dog\r\n"imgs/b, c.jpg",cat\nimgs/d.jpg,dog\n');
    const ds = csvDataset(csv);
    assert.deepEqual(ds.classes, ['cat', 'dog']);
    assert.deepEqual(ds.samples.map((s) => [path.relative(root, s.path), s.target]), [['imgs/a.jpg', 1], ['imgs/b, c.jpg', 0], ['imgs/d.jpg', 1]]);
    assert.deepEqual(parseCsv('a,"say ""hi""\nthere"\n'), [['a', 'say "hi"\nthere']]);
  });

  test('integer labels sort numerically', () => {
    const csv = path.join(tree({}), 'n.csv');
    mkdirSync(path.dirname(csv), { recursive: true });
    writeFileSync(csv, 'a.jpg,10\nb.jpg,2\nc.jpg,1\n');
    assert.deepEqual(csvDataset(csv).classes, ['1', '2', '10']);
  });

  test('multi-label, as a label list or as 0/1 columns', () => {
    const dir = tree({ 'x.txt': '' });
    const list = path.join(dir, 'list.csv');
    writeFileSync(list, 'file,labels\na.jpg,sky;tree\nb.jpg,tree\nc.jpg,\n');
    const a = csvDataset(list, { multiLabel: true });
    assert.deepEqual(a.classes, ['sky', 'tree']);
    assert.deepEqual(a.samples.map((s) => s.target), [[0, 1], [1], []]);
    assert.equal(a.multiLabel, true);
    const wide = path.join(dir, 'wide.csv');
    writeFileSync(wide, 'path,sky,tree,water\na.jpg,1,0,1\nb.jpg,0,1,0\n');
    assert.deepEqual(csvDataset(wide, { multiLabel: true }).samples.map((s) => s.target), [[0, 2], [1]]);
    writeFileSync(wide, 'path,sky,tree\na.jpg,1,yes\n');
    assert.throws(() => csvDataset(wide, { multiLabel: true }), /line 2: expected 0 or 1 for class "tree" but found "yes"/);
  });

  test('malformed manifests are errors naming the line', () => {
    const csv = path.join(tree({ 'x.txt': '' }), 'bad.csv');
    writeFileSync(csv, 'path,label\na.jpg,dog\nb.jpg\n');
    assert.throws(() => csvDataset(csv), /line 3: expected path,label but found 1 column/);
    writeFileSync(csv, 'path,label\n');
    assert.throws(() => csvDataset(csv), /lists no images/);
    writeFileSync(csv, 'a.jpg,dog\nb.jpg,dog\n');
    assert.throws(() => csvDataset(csv), /1 class\(es\)/);
  });
});

describe('hymenoptera (needs ../shared)', { skip: existsSync(hymenoptera) ? false : 'needs ../shared' }, () => {
  test('train/ and val/ load as torchvision does: the GIF is not an ImageFolder extension', () => {
    const s = loadImageFolders(hymenoptera);
    assert.deepEqual(s.classes, ['ants', 'bees']);
    assert.deepEqual(s.train.classCounts(), [123, 121]);
    assert.deepEqual(s.val.classCounts(), [70, 83]);
    assert.ok(s.train.samples.some((x) => x.path.endsWith('ant photos.jpg')));
  });
});
