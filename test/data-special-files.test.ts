// Files named like images that are not regular files (a FIFO, links to /dev/zero and
// /dev/urandom), one over the size limit and a GIF: a folder scan leaves them out with the reason,
// the decoder and the loader refuse them without blocking or reading them, and a whole training
// run reports them and finishes. What could hang or fill memory runs in a child process with a
// time limit and a bound on its peak memory.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, test } from 'node:test';
import { ImageFolder, DataLoader, DecodeError } from '../src/data/index.ts';
import { makeSpecialFiles, specialFilesSkip, type SpecialFiles } from './support/special-files.ts';
import { runBounded, SRC } from './support/bounded-child.ts';
import { INT8_BACKBONE, smallDataset } from './support/small-dataset.ts';

const root = resolve(import.meta.dirname, '..');
const jpg = join(root, 'test', 'fixtures', 'data', 'images', 'rgb.jpg');
const scratch = mkdtempSync(join(tmpdir(), 'graft-special-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

let data = '';
let special: SpecialFiles;
if (!specialFilesSkip) {
  data = smallDataset(join(scratch, 'data'), { train: 4, val: 2 });
  special = makeSpecialFiles(join(data, 'train', 'ants'), jpg);
}
const reasons = {
  fifo: /^not a regular file but a named pipe \(FIFO\); only regular files are read$/,
  device: /^not a regular file but a character device \(like \/dev\/zero or \/dev\/urandom\)/,
  huge: /^1073741825 bytes, more than the 1073741824-byte limit for an image file$/,
  gif: /^\.gif files are not read, as torchvision's ImageFolder does not read them$/,
};

test('a folder scan keeps regular files only and lists the others as skipped, with the reason', { skip: specialFilesSkip }, () => {
  const ds = new ImageFolder(join(data, 'train'));
  assert.equal(ds.samples.length, 8, 'the four real images of each class');
  assert.ok(ds.samples.every((s) => s.path.endsWith('.jpg') && !s.path.endsWith('pipe.jpg') && !s.path.endsWith('zero.jpg')));
  const byFile = new Map(ds.skipped.map((s) => [s.file, s]));
  assert.equal(byFile.size, 5);
  assert.match(byFile.get(special.fifo)!.reason, reasons.fifo);
  assert.match(byFile.get(special.zero)!.reason, reasons.device);
  assert.match(byFile.get(special.urandom)!.reason, reasons.device);
  assert.match(byFile.get(special.huge)!.reason, reasons.huge);
  assert.match(byFile.get(special.gif)!.reason, reasons.gif);
  assert.equal(byFile.get(special.gif)!.byExtension, true);
  assert.equal(byFile.get(special.fifo)!.byExtension, undefined);
});

test('the loader reports what the scan left out; strict refuses the first special file before reading anything', { skip: specialFilesSkip }, async () => {
  const ds = new ImageFolder(join(data, 'train'));
  const warned: string[] = [];
  const loader = new DataLoader(ds, { batchSize: 1, workers: 0, onWarning: (s) => warned.push(s.file) });
  assert.equal(warned.length, 5, 'reported when the loader is made, before any epoch');
  let images = 0;
  for await (const batch of loader) images += batch.files.length;
  assert.equal(images, 8);
  assert.equal(loader.summary().skipped.length, 5);
  assert.throws(() => new DataLoader(ds, { strict: true, onWarning: () => {} }), (e: unknown) => e instanceof DecodeError && e.file === special.huge && reasons.huge.test(e.reason));
});

test('the decoder and the loader refuse pipes and devices given by path, without blocking or reading them', { skip: specialFilesSkip }, async (t) => {
  const child = await runBounded(`
    import { decodeImage, readImageSize, DataLoader, SampleList } from '${SRC}/data/index.ts';
    import { fileDigest } from '${SRC}/train/feature-cache.ts';
    const files = ${JSON.stringify([special.fifo, special.zero, special.urandom, special.huge])};
    const reason = (p) => p.then(() => 'decoded', (e) => e.reason ?? e.message);
    const out = { async: [], sync: [], size: [], digest: [], loader: {} };
    for (const f of files) {
      out.async.push(await reason(decodeImage(f)));
      out.sync.push(await reason(decodeImage(f, { syncRead: true })));
      out.size.push(await reason(readImageSize(f)));
      out.digest.push(await reason(fileDigest(f)));
    }
    for (const workers of [0, 1]) {
      const skipped = [];
      const loader = new DataLoader(new SampleList('.', ['a'], files.map((path) => ({ path, target: 0 }))), { workers, onWarning: (s) => skipped.push(s.reason) });
      for await (const _ of loader) {}
      await loader.close();
      out.loader[workers] = skipped;
    }
    console.log(JSON.stringify(out));
  `, 60_000);
  assert.equal(child.timedOut, false, `the child hung: ${child.stderr}`);
  const out = child.result as { async: string[]; sync: string[]; size: string[]; digest: string[]; loader: Record<string, string[]> };
  assert.ok(out, child.stderr);
  for (const list of [out.async, out.sync, out.size]) {
    assert.equal(list.length, 4);
    assert.match(list[0], reasons.fifo);
    assert.match(list[1], reasons.device);
    assert.match(list[2], reasons.device);
    assert.match(list[3], reasons.huge);
  }
  // The loader's worker threads report skipped files as they finish, in any order.
  for (const list of [out.loader[0], out.loader[1]]) {
    const kinds = list.map((r) => (reasons.fifo.test(r) ? 'fifo' : reasons.device.test(r) ? 'device' : reasons.huge.test(r) ? 'huge' : r)).sort();
    assert.deepEqual(kinds, ['device', 'device', 'fifo', 'huge']);
  }
  assert.match(out.digest[0], /named pipe/);
  assert.match(out.digest[1], /character device/);
  t.diagnostic(`child: peak RSS ${child.peakRssMb.toFixed(0)} MB, ${child.seconds.toFixed(1)} s`);
  assert.ok(child.peakRssMb < 400, `peak RSS ${child.peakRssMb.toFixed(0)} MB`);
});

test('graft train on a folder holding them finishes and reports each; --strict stops at once naming the file', { skip: specialFilesSkip }, async (t) => {
  const out = join(scratch, 'model');
  const child = await runBounded(`
    import { jobs } from '${SRC}/index.ts';
    const config = { model: ${JSON.stringify(INT8_BACKBONE)}, epochs: 1, batchSize: 4, featureCache: false, augment: 'none', seed: 1 };
    const job = await jobs.train(${JSON.stringify(data)}, config, { out: ${JSON.stringify(out)} });
    const strict = await jobs.train(${JSON.stringify(data)}, { ...config, strict: true }, { out: ${JSON.stringify(out + '-strict')} }).then(() => 'trained', (e) => e.message);
    const predicted = await jobs.predict(${JSON.stringify(out)}, ${JSON.stringify([special.fifo, special.zero])});
    console.log(JSON.stringify({ summary: job.summary, skipped: job.result.skipped, strict, predicted: predicted.map((p) => p.error) }));
  `, 120_000);
  assert.equal(child.timedOut, false, `the child hung: ${child.stderr}`);
  const r = child.result as { summary: { skipped_files: number; train_images: number }; skipped: { file: string; reason: string }[]; strict: string; predicted: string[] };
  assert.ok(r, child.stderr);
  assert.equal(r.summary.skipped_files, 5);
  assert.equal(r.summary.train_images, 8);
  assert.deepEqual(r.skipped.map((s) => s.file).sort(), Object.values(special).sort());
  assert.match(r.strict, /^Cannot decode image .*huge\.bmp: 1073741825 bytes, more than/, 'the first of them in the scan\'s order');
  assert.match(r.predicted[0], /pipe\.jpg: not a regular file but a named pipe/);
  assert.match(r.predicted[1], /zero\.jpg: not a regular file but a character device/);
  t.diagnostic(`child: peak RSS ${child.peakRssMb.toFixed(0)} MB, ${child.seconds.toFixed(1)} s`);
  assert.ok(child.peakRssMb < 768, `peak RSS ${child.peakRssMb.toFixed(0)} MB`);
});
