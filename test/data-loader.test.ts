import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  CenterCrop, Compose, csvDataset, DataLoader, DecodeError, evalPreset, ImageFolder, IMAGENET_MEAN, IMAGENET_STD, Normalize,
  RandomHorizontalFlip, RandomResizedCrop, Resize, ToTensor, type Batch, type SkippedFile, type Transform,
} from '../src/data/index.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const fixtures = path.join(repoRoot, 'test', 'fixtures', 'data');
const hymenoptera = path.resolve(repoRoot, '..', 'shared', 'data', 'hymenoptera');
const scratch = mkdtempSync(path.join(tmpdir(), 'graft-loader-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

const GOOD = ['rgb.jpg', 'tall.jpg', 'exif-rotate90.jpg', 'gray.jpg', 'cmyk.jpg', 'palette.png', 'alpha.png', 'rgb16.png', 'lossy.webp', 'deflate.tiff', 'rgb24.bmp', 'palette8.bmp'];
const BAD = ['zero-byte.jpg', 'truncated.jpg', 'corrupt.png', 'not-an-image.jpg', 'huge-dimensions.png', 'truncated.bmp'];

/** Class a gets the even good fixtures, class b the odd ones; `withBad` adds every bad file to a. */
function folder(name: string, withBad = false): string {
  const root = path.join(scratch, name);
  GOOD.forEach((f, i) => {
    const dir = path.join(root, i % 2 ? 'b' : 'a');
    mkdirSync(dir, { recursive: true });
    copyFileSync(path.join(fixtures, 'images', f), path.join(dir, f));
  });
  if (withBad) {
    for (const f of BAD) copyFileSync(path.join(fixtures, 'bad', f), path.join(root, 'a', `bad-${f}`));
    copyFileSync(path.join(fixtures, 'bad', 'png-named.jpg'), path.join(root, 'b', 'png-named.jpg'));
  }
  return root;
}

const train = () => new Compose([new RandomResizedCrop(32), new RandomHorizontalFlip(), new ToTensor(), new Normalize(IMAGENET_MEAN, IMAGENET_STD)]);

async function collect(loader: DataLoader): Promise<Batch[]> {
  const out: Batch[] = [];
  for await (const b of loader) out.push(b);
  return out;
}

describe('DataLoader', () => {
  const root = folder('good');

  test('yields Float32 NCHW batches with labels and file names', async () => {
    const ds = new ImageFolder(root);
    const loader = new DataLoader(ds, { batchSize: 5, workers: 0, transform: new Compose([new Resize(40), new CenterCrop(32), new ToTensor()]) });
    const batches = await collect(loader);
    assert.deepEqual(batches.map((b) => b.shape), [[5, 3, 32, 32], [5, 3, 32, 32], [2, 3, 32, 32]]);
    assert.equal(loader.length, 3);
    const first = batches[0];
    assert.ok(first.images instanceof Float32Array && first.images.length === 5 * 3 * 32 * 32);
    assert.ok(first.labels instanceof Int32Array);
    assert.deepEqual([...batches.flatMap((b) => [...b.labels])], ds.samples.map((s) => s.target));
    assert.deepEqual(batches.flatMap((b) => b.files), ds.samples.map((s) => s.path));
    assert.ok(first.images.every((v) => v >= 0 && v <= 1));
    const dropped = await collect(new DataLoader(ds, { batchSize: 5, dropLast: true, workers: 0, transform: evalPreset({ resizeSize: 36, cropSize: 32 }) }));
    assert.equal(dropped.length, 2);
  });

  test('seeded shuffle and random transforms give the same batches with or without worker threads', async () => {
    const ds = new ImageFolder(root);
    const a = new DataLoader(ds, { batchSize: 4, shuffle: true, seed: 3, workers: 0, transform: train() });
    const b = new DataLoader(ds, { batchSize: 4, shuffle: true, seed: 3, workers: 2, transform: train() });
    try {
      const [ea, eb] = [await collect(a), await collect(b)];
      assert.deepEqual(ea.map((x) => x.files), eb.map((x) => x.files));
      assert.deepEqual(ea.map((x) => [...x.images]), eb.map((x) => [...x.images]));
      assert.ok(eb[0].images.buffer instanceof SharedArrayBuffer, 'workers wrote straight into the batch buffer');
      assert.equal(eb[0].images.byteOffset, 0);
      assert.notDeepEqual(ea.flatMap((x) => x.files), ds.samples.map((s) => s.path), 'shuffled');
      const second = await collect(a);
      assert.notDeepEqual(second.flatMap((x) => x.files), ea.flatMap((x) => x.files), 'each epoch reshuffles');
    } finally {
      await b.close();
    }
  });

  test('training crops decoded natively match the exact pipeline to within one level of 255', async () => {
    const ds = new ImageFolder(root);
    // Upscaled, downscaled and mixed boxes; with and without Normalize; flips drawn as in the exact pipeline.
    for (const [size, tail] of [[32, true], [224, true], [48, false]] as const) {
      const tf = () => new Compose([new RandomResizedCrop(size), new RandomHorizontalFlip(), new ToTensor(), ...(tail ? [new Normalize(IMAGENET_MEAN, IMAGENET_STD)] : [])]);
      const native = await collect(new DataLoader(ds, { batchSize: 4, shuffle: true, seed: 5, workers: 0, transform: tf() }));
      const exact = await collect(new DataLoader(ds, { batchSize: 4, shuffle: true, seed: 5, workers: 0, transform: tf(), nativeCrop: false }));
      const level = tail ? 1 / 255 / Math.min(...IMAGENET_STD) : 1 / 255;
      native.forEach((b, i) => {
        assert.deepEqual(b.files, exact[i].files);
        let worst = 0;
        for (let j = 0; j < b.images.length; j++) worst = Math.max(worst, Math.abs(b.images[j] - exact[i].images[j]));
        assert.ok(worst <= level * 1.05, `batch ${i} at ${size}: differs by ${worst}`);
      });
    }
  });

  test('prefetch bounds how far decoding runs ahead of the consumer', async () => {
    let applied = 0;
    const counting: Transform = {
      name: 'Counting',
      apply: (x) => { applied++; return new ToTensor().apply(new Resize([8, 8]).apply(x)); },
      spec: () => ({ name: 'Counting', options: {} }),
    };
    const many = { root, classes: ['a', 'b'], multiLabel: false, samples: Array.from({ length: 60 }, (_, i) => ({ path: path.join(root, 'a', 'rgb.jpg'), target: i % 2 })) };
    const loader = new DataLoader(many, { batchSize: 2, prefetch: 1, transform: counting });
    assert.equal(loader.workers, 0, 'an unregistered transform runs on the calling thread');
    for await (const _ of loader) {
      await new Promise((r) => setTimeout(r, 50));
      assert.ok(applied <= 6, `decoded ${applied} of 60 while the consumer held the first batch`);
      break;
    }
    assert.throws(() => new DataLoader(many, { transform: counting, workers: 2 }), /registered with registerTransform/);
  });

  test('options are checked at construction, naming the option and the valid range', () => {
    const ds = new ImageFolder(root);
    assert.throws(() => new DataLoader(ds, { batchSize: 0 }), { name: 'RangeError', message: 'Expected integer >= 1 for batchSize but received 0 of type number' });
    assert.throws(() => new DataLoader(ds, { workers: 65 }), { name: 'RangeError', message: 'Expected integer between 0 and 64 for workers but received 65 of type number' });
    assert.throws(() => new DataLoader(ds, { shuffle: 'yes' as unknown as boolean }), { name: 'TypeError', message: 'Expected boolean for shuffle but received "yes"' });
    assert.throws(() => new DataLoader({} as ImageFolder), { name: 'TypeError', message: 'Expected a dataset with samples for dataset but received an object (Object)' });
  });

  test('multi-label datasets give n x C multi-hot labels', async () => {
    const csv = path.join(root, 'multi.csv');
    writeFileSync(csv, 'path,labels\na/rgb.jpg,sky;tree\nb/tall.jpg,water\nb/gray.jpg,\n');
    const [batch] = await collect(new DataLoader(csvDataset(csv, { multiLabel: true }), { batchSize: 3, workers: 0, transform: evalPreset({ resizeSize: 16, cropSize: 16 }) }));
    assert.ok(batch.labels instanceof Float32Array);
    assert.deepEqual([...batch.labels], [1, 1, 0, 0, 0, 1, 0, 0, 0]);
  });

  test('graft exports this one DataLoader, and with tensors loaded its batches destructure into [images, labels]', async () => {
    const graft = await import('../src/index.ts');
    assert.equal(graft.DataLoader, DataLoader);
    assert.equal(graft.data.DataLoader, DataLoader);
    const [batch] = await collect(new DataLoader(new ImageFolder(root), { batchSize: 4, workers: 0, transform: evalPreset({ resizeSize: 16, cropSize: 16 }) }));
    const [x, y] = batch;
    assert.deepEqual([x.shape, x.dtype, y.shape, y.dtype], [[4, 3, 16, 16], 'float32', [4], 'int64']);
    assert.equal(x.value, batch.images, 'the images tensor wraps the batch, no copy');
    assert.deepEqual([...(y.value as BigInt64Array)].map(Number), [...batch.labels]);
    const csv = path.join(root, 'multi-tensors.csv');
    writeFileSync(csv, 'path,labels\na/rgb.jpg,sky;tree\nb/tall.jpg,water\n');
    const [multi] = await collect(new DataLoader(csvDataset(csv, { multiLabel: true }), { batchSize: 2, workers: 0, transform: evalPreset({ resizeSize: 16, cropSize: 16 }) }));
    const [, hot] = multi;
    assert.deepEqual([hot.shape, hot.dtype], [[2, 3], 'float32']);
  });

  test('bad files are skipped with a warning naming each, counted in the summary, and batches stay full', async () => {
    const bad = folder('bad', true);
    const warnings: SkippedFile[] = [];
    const loader = new DataLoader(new ImageFolder(bad), { batchSize: 4, workers: 2, transform: train(), onWarning: (w) => warnings.push(w) });
    try {
      const batches = await collect(loader);
      assert.deepEqual(batches.map((b) => b.shape[0]), [4, 4, 4, 1]);
      assert.deepEqual(warnings.map((w) => path.basename(w.file)).sort(), BAD.map((f) => `bad-${f}`).sort());
      const summary = loader.summary();
      assert.equal(summary.loaded, GOOD.length + 1);
      assert.deepEqual(summary.skipped.map((s) => path.basename(s.file)).sort(), BAD.map((f) => `bad-${f}`).sort());
      assert.ok(summary.skipped.every((s) => s.reason.length > 0));
      await collect(loader);
      assert.equal(warnings.length, BAD.length, 'a file is reported once, not every epoch');
    } finally {
      await loader.close();
    }
    const strict = new DataLoader(new ImageFolder(bad), { batchSize: 4, workers: 0, strict: true, transform: train() });
    await assert.rejects(collect(strict), (e: unknown) => e instanceof DecodeError && e.file.includes(`${path.sep}bad-`));
  });
});

describe('hymenoptera (needs ../shared)', { skip: existsSync(hymenoptera) ? false : 'needs ../shared' }, () => {
  test('the GIF among the JPEGs and the file name with a space load', async () => {
    const csv = path.join(scratch, 'hymenoptera.csv');
    writeFileSync(csv, ['path,label', 'train/ants/imageNotFound.gif,ants', '"train/ants/ant photos.jpg",ants', 'train/bees/16838648_415acd9e3f.jpg,bees'].join('\n'));
    const ds = csvDataset(csv, { root: hymenoptera });
    const loader = new DataLoader(ds, { batchSize: 3, workers: 0, transform: evalPreset(), onWarning: (w) => assert.fail(`${w.file}: ${w.reason}`) });
    const [batch] = await collect(loader);
    assert.deepEqual(batch.shape, [3, 3, 224, 224]);
    assert.deepEqual([...batch.labels], [0, 0, 1]);
  });
});
