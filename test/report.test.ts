import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import sharp from 'sharp';
import { renderReport, writeReport, type EpochRecord, type ReportInput } from '../src/artifacts/report.ts';

/**
 * The training report: rendered from a realistic run (three classes, one of them named like a
 * script tag, a fine-tuning phase, a diverged epoch, thumbnails of real and unreadable files),
 * checked as a string, then opened in headless Chromium, which must render it without a console
 * error; the screenshot is kept in test/output/ to be looked at.
 */

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const fixtureImages = path.join(repoRoot, 'test', 'fixtures', 'data', 'images');
const badImages = path.join(repoRoot, 'test', 'fixtures', 'data', 'bad');
const outputDir = path.join(repoRoot, 'test', 'output');
const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const browserSkip = existsSync(CHROMIUM) ? false : `${CHROMIUM} not found: install Debian's chromium (apt-get install chromium) to run the browser checks`;

const SCRIPT_CLASS = '<script>window.__injected = true</script>wasps';
const CLASSES = ['ants', 'bees', SCRIPT_CLASS];

async function tempDir(t: { after: (fn: () => unknown) => void }, prefix: string): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), prefix));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** A small picture made at test time, so the report has a thumbnail from a plain JPEG too. */
async function makeJpeg(file: string, hue: number): Promise<string> {
  const width = 96;
  const height = 64;
  const pixels = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      pixels[i] = (hue + x * 2) & 0xff;
      pixels[i + 1] = (y * 4) & 0xff;
      pixels[i + 2] = (255 - hue - x) & 0xff;
    }
  }
  await sharp(pixels, { raw: { width, height, channels: 3 } }).jpeg().toFile(file);
  return file;
}

function history(epochs: number): EpochRecord[] {
  return Array.from({ length: epochs }, (_, i) => {
    const t = i / Math.max(1, epochs - 1);
    return {
      epoch: i + 1,
      train_loss: 0.95 * Math.exp(-2.2 * t) + 0.12,
      train_acc: 0.55 + 0.4 * (1 - Math.exp(-3 * t)),
      val_loss: 0.7 * Math.exp(-1.8 * t) + 0.2 + 0.04 * Math.sin(i),
      val_acc: 0.62 + 0.31 * (1 - Math.exp(-2.5 * t)) - 0.02 * Math.cos(i * 1.7),
      lr: i < epochs / 2 ? 1e-3 : 1e-4,
      seconds: 11.5 + (i % 3),
      phase: i < epochs / 2 ? 'frozen' : 'fine-tune',
    };
  });
}

async function realisticInput(imageDir: string): Promise<ReportInput> {
  const runs = history(12);
  runs[4].train_loss = Number.NaN;
  runs[4].val_loss = Number.NaN;
  const made = await makeJpeg(path.join(imageDir, 'bee_0001.jpg'), 40);
  const wrong = [
    { file: path.join(fixtureImages, 'rgb.jpg'), actual: 'ants', predicted: 'bees', prob: 0.97 },
    { file: made, actual: 'bees', predicted: 'ants', prob: 0.93 },
    { file: path.join(fixtureImages, 'exif-rotate90.jpg'), actual: SCRIPT_CLASS, predicted: 'bees', prob: 0.88 },
    { file: path.join(fixtureImages, 'cmyk.jpg'), actual: 'bees', predicted: SCRIPT_CLASS, prob: 0.81 },
    { file: path.join(fixtureImages, 'palette8.bmp'), actual: 'ants', predicted: SCRIPT_CLASS, prob: 0.74 },
    { file: path.join(fixtureImages, 'tall.jpg'), actual: 'ants', predicted: 'bees', prob: 0.71 },
    { file: path.join(badImages, 'not-an-image.jpg'), actual: 'bees', predicted: 'ants', prob: 0.66 },
    { file: path.join(imageDir, 'deleted since training.jpg'), actual: 'ants', predicted: 'bees', prob: 0.61 },
  ];
  return {
    title: 'hymenoptera · mobilenet_v2 · frozen',
    classes: CLASSES,
    history: runs,
    bestEpoch: 10,
    confusion: [[64, 5, 1], [4, 72, 7], [0, 3, 41]],
    perClass: [
      { class: 'ants', precision: 0.941, recall: 0.914, f1: 0.928, support: 70 },
      { class: 'bees', precision: 0.9, recall: 0.867, f1: 0.883, support: 83 },
      { class: SCRIPT_CLASS, precision: 0.837, recall: 0.932, f1: 0.882, support: 44 },
    ],
    wrong,
    summary: {
      model: 'mobilenet_v2', weights: 'IMAGENET1K_V2', mode: 'frozen backbone', epochs: 12,
      'best val acc': '90.4%', 'wall time': '2 min 31 s', images: 397, 'skipped files': 1,
    },
    createdAt: '2025-06-01T14:03:22Z',
  };
}

function count(html: string, pattern: RegExp): number {
  return html.match(pattern)?.length ?? 0;
}

test('renders every part of a realistic run, escaping names from the data', async (t) => {
  const input = await realisticInput(await tempDir(t, 'graft-report-'));
  const html = await renderReport(input);

  assert.equal(count(html, /<script/gi), 0, 'the page must carry no script at all');
  assert.ok(html.includes('&lt;script&gt;window.__injected = true&lt;/script&gt;wasps'), 'the class name appears as text');
  assert.equal(count(html, /<svg class="curve"/g), 2);
  assert.equal(count(html, /<rect class="cell"/g), CLASSES.length ** 2);
  assert.equal(count(html, /<img class="thumb" src="data:image\/jpeg;base64,/g), 6, 'six readable images become thumbnails');
  assert.equal(count(html, /class="thumb missing"/g), 2, 'a non-image and a missing file become placeholders');
  assert.ok(!/\bd="[^"]*NaN/.test(html) && !/="NaN"/.test(html), 'a NaN loss leaves a gap, never a NaN coordinate');
  assert.match(html, /best · epoch 11/);
  assert.match(html, /fine-tune/);
  assert.doesNotMatch(html, /(src|href)="(?!data:)/, 'nothing is loaded from outside the file');
});

test('writeReport replaces report.html through a temporary file', async (t) => {
  const dir = await tempDir(t, 'graft-report-');
  const input = await realisticInput(dir);
  const first = await writeReport(path.join(dir, 'model'), input);
  assert.equal(first, path.join(dir, 'model', 'report.html'));
  const second = await writeReport(path.join(dir, 'model'), { ...input, title: 'second run' });
  assert.equal(second, first);
  assert.deepEqual(await readdir(path.join(dir, 'model')), ['report.html'], 'no temporary file is left behind');
  assert.match(await readFile(first, 'utf8'), /<h1>second run<\/h1>/);
});

test('handles one epoch, two classes, no wrong images and all-NaN losses', async () => {
  const one = history(1);
  one[0].train_loss = Number.NaN;
  one[0].val_loss = Number.NaN;
  const html = await renderReport({
    title: 'tiny', classes: ['cat', 'dog'], history: one, bestEpoch: 0, confusion: [[5, 0], [0, 5]],
    perClass: [{ class: 'cat', precision: 1, recall: 1, f1: 1, support: 5 }, { class: 'dog', precision: 1, recall: 1, f1: 1, support: 5 }],
    wrong: [], summary: {}, createdAt: '2025-06-01T00:00:00Z',
  });
  assert.equal(count(html, /<rect class="cell"/g), 4);
  assert.match(html, /No finite values to plot/, 'the loss chart says why it is empty');
  assert.match(html, /<circle class="dot best-dot"/, 'a single accuracy point is drawn as a dot');
  assert.match(html, /No misclassified validation images/);
  assert.match(html, /No confusions/);
});

test('a hundred classes: square cells without counts, abbreviated labels, full names in tooltips', async () => {
  const classes = Array.from({ length: 100 }, (_, i) => `n${String(i).padStart(8, '0')}_a_rather_long_synset_name_${i}`);
  const confusion = classes.map((_, i) => classes.map((__, j) => (i === j ? 40 : (i * 7 + j) % 23 === 0 ? 3 : 0)));
  const html = await renderReport({
    title: 'imagenet-100', classes, history: history(30), bestEpoch: 27, confusion,
    perClass: classes.map((c) => ({ class: c, precision: 0.8, recall: 0.8, f1: 0.8, support: 50 })),
    wrong: [], summary: { classes: 100 }, createdAt: '2025-06-01T00:00:00Z',
  }, { thumbnail: async () => null });
  assert.match(html, /No images recorded for the 1\u202f290 misclassified validation images/);
  assert.equal(count(html, /<rect class="cell"/g), 100 * 100);
  assert.equal(count(html, /<text class="count"/g), 0, 'counts do not fit in cells this small');
  assert.match(html, />n00000042_a_r…</, 'synset-style names keep their distinguishing start');
  assert.match(html, /<title>n00000042_a_rather_long_synset_name_42<\/title>/);
});

test('thumbnail functions: a throw becomes a placeholder, a URL that is not data: is refused', async (t) => {
  const input = { ...(await realisticInput(await tempDir(t, 'graft-report-'))) };
  const html = await renderReport(input, { thumbnail: async () => { throw new Error('disk gone'); } });
  assert.equal(count(html, /class="thumb missing"/g), input.wrong.length);
  await assert.rejects(renderReport(input, { thumbnail: async () => 'https://example.com/a.jpg' }), {
    name: 'TypeError', message: /Expected a data:image\/ URI or null for the thumbnail of .*rgb\.jpg but received "https:\/\/example\.com\/a\.jpg"/,
  });
});

test('inputs whose parts disagree are refused with the part and the values', async (t) => {
  const input = await realisticInput(await tempDir(t, 'graft-report-'));
  await assert.rejects(renderReport({ ...input, bestEpoch: 12 }), {
    name: 'RangeError', message: 'Expected integer between 0 and 11 (an index into history) for bestEpoch but received 12 of type number',
  });
  await assert.rejects(renderReport({ ...input, confusion: [[1, 2], [3, 4]] }), {
    name: 'RangeError', message: 'Expected 3 rows (one per class) for confusion but received 2 rows',
  });
  await assert.rejects(renderReport({ ...input, confusion: [[1, 2, 3], [4, 5], [6, 7, 8]] }), {
    name: 'RangeError', message: 'Expected 3 columns for confusion row 1 (bees) but received 2 columns',
  });
});

interface OpenedPage {
  page: import('playwright-core').Page;
  /** Console errors and warnings, page errors and failed requests, as they happen. */
  problems: string[];
}

/** Opens a file in a fresh headless Chromium profile, recording everything that goes wrong. */
async function openInChromium(t: { after: (fn: () => unknown) => void }, file: string, profileDir: string): Promise<OpenedPage> {
  const { chromium } = await import('playwright-core');
  const context = await chromium.launchPersistentContext(profileDir, {
    executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true, viewport: { width: 1280, height: 900 },
  });
  t.after(() => context.close());
  const page = context.pages()[0] ?? (await context.newPage());
  const problems: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warning') problems.push(`console ${message.type()}: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('requestfailed', (request) => problems.push(`request failed: ${request.url().slice(0, 80)}`));
  await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
  return { page, problems };
}

test('renders in headless Chromium without errors; screenshot kept in test/output/', { skip: browserSkip }, async (t) => {
  const dir = await tempDir(t, 'graft-report-');
  const reportPath = await writeReport(path.join(dir, 'model'), await realisticInput(dir));
  const { page, problems } = await openInChromium(t, reportPath, path.join(dir, 'chromium-profile'));
  const facts = await page.evaluate(() => ({
    curves: document.querySelectorAll('svg.curve').length,
    curveLines: document.querySelectorAll('svg.curve path.line').length,
    bestMarkers: document.querySelectorAll('svg.curve line.best').length,
    cells: document.querySelectorAll('svg.heatmap rect.cell').length,
    perClassRows: document.querySelectorAll('table.metrics tbody tr').length,
    thumbnails: Array.from(document.querySelectorAll<HTMLImageElement>('img.thumb')).map((img) => ({ complete: img.complete, width: img.naturalWidth })),
    placeholders: document.querySelectorAll('.thumb.missing').length,
    scripts: document.scripts.length,
    injected: (window as unknown as { __injected?: boolean }).__injected ?? false,
    rowLabels: Array.from(document.querySelectorAll('svg.heatmap .row-label')).map((e) => e.textContent),
    firstClassCell: document.querySelector('table.metrics tbody tr:nth-child(3) td')?.textContent,
    heatmapWidth: document.querySelector('svg.heatmap')?.getBoundingClientRect().width ?? 0,
  }));

  assert.deepEqual(problems, [], 'the page renders without console errors, page errors or failed requests');
  assert.equal(facts.curves, 2);
  assert.equal(facts.curveLines, 4, 'train and validation lines on both charts');
  assert.equal(facts.bestMarkers, 2);
  assert.equal(facts.cells, CLASSES.length ** 2);
  assert.equal(facts.perClassRows, CLASSES.length);
  assert.equal(facts.thumbnails.length, 6);
  for (const thumb of facts.thumbnails) assert.ok(thumb.complete && thumb.width > 0, `thumbnail decoded: ${JSON.stringify(thumb)}`);
  assert.equal(facts.placeholders, 2);
  assert.equal(facts.scripts, 0, 'no script element exists, so none can run');
  assert.equal(facts.injected, false);
  assert.equal(facts.firstClassCell, SCRIPT_CLASS, 'the script-like class name is shown as text');
  assert.ok(facts.rowLabels.some((label) => label?.startsWith('<script>')), 'and as a heatmap label');
  assert.ok(facts.heatmapWidth > 100);

  await mkdir(outputDir, { recursive: true });
  await page.screenshot({ path: path.join(outputDir, 'report.png'), fullPage: true });
});

test('a hundred-class report renders in Chromium too; screenshot kept in test/output/', { skip: browserSkip }, async (t) => {
  const dir = await tempDir(t, 'graft-report-');
  const classes = Array.from({ length: 100 }, (_, i) => `class_${String(i).padStart(3, '0')}_${['oak', 'maple', 'birch', 'willow'][i % 4]}_leaves`);
  const confusion = classes.map((_, i) => classes.map((__, j) => (i === j ? 30 + (i % 11) : (i * 7 + j * 3) % 37 === 0 ? 1 + (j % 4) : 0)));
  const reportPath = await writeReport(path.join(dir, 'model'), {
    title: 'leaves-100 · resnet18 · fine-tuned', classes, history: history(40), bestEpoch: 36, confusion,
    perClass: classes.map((c, i) => ({ class: c, precision: 0.6 + (i % 9) * 0.045, recall: 0.55 + (i % 7) * 0.06, f1: 0.6 + (i % 8) * 0.05, support: 40 })),
    wrong: [], summary: { model: 'resnet18', classes: 100, epochs: 40 }, createdAt: '2025-06-01T00:00:00Z',
  });
  const { page, problems } = await openInChromium(t, reportPath, path.join(dir, 'chromium-profile'));
  assert.deepEqual(problems, []);
  assert.equal(await page.locator('svg.heatmap rect.cell').count(), 100 * 100);
  await mkdir(outputDir, { recursive: true });
  await page.locator('#confusion').screenshot({ path: path.join(outputDir, 'report-100-classes.png') });
});
