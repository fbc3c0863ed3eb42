/**
 * The web app on a large project (`npm run bench -- --only ui`, `-- --images N`, 20,000 by
 * default): a real `graft ui` process on generated JPEGs in 10 classes, a real Chromium opening
 * the data page and scrolling its grid, and a frozen training run started from the train page.
 * Reports how long the data page takes to show its first thumbnails, how many thumbnails the
 * scroll fetched of all the images, the server's peak RSS over the whole session, and the run's
 * time. No reference: the goals are absolute (under 2 s, under 1 GB).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { generateProject } from './ui-project.ts';

export interface UiRow { case: string; unit: string; graft: number; reference: number | null; against: string }

const root = resolve(import.meta.dirname, '..');
const CHROMIUM = '/usr/bin/chromium';

interface UiProcess { url: string; child: ChildProcess; stop: () => Promise<number | null> }

async function startUiProcess(project: string): Promise<UiProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'src', 'cli', 'main.ts'), 'ui', project, '--port', '0', '--no-open'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
  let output = '';
  const url = await new Promise<string>((done, fail) => {
    const read = (d: Buffer) => {
      output += d;
      const m = /(http:\/\/127\.0\.0\.1:\d+\/\?token=\S+)/.exec(output);
      if (m) done(m[1]);
    };
    child.stdout!.on('data', read);
    child.stderr!.on('data', read);
    child.on('exit', (code) => fail(new Error(`graft ui exited ${code}: ${output}`)));
  });
  return { url, child, stop: () => { child.kill('SIGTERM'); return exited; } };
}

/** The process's peak resident set so far (Linux's VmHWM), in MB. */
function peakRssMb(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

async function api<T>(base: URL, path: string, init: RequestInit = {}): Promise<T> {
  const url = new URL(path, base);
  url.searchParams.set('token', base.searchParams.get('token')!);
  const r = await fetch(url, { ...init, headers: { 'content-type': 'application/json', ...init.headers } });
  if (!r.ok) throw new Error(`${init.method ?? 'GET'} ${path}: ${r.status} ${await r.text()}`);
  return r.json() as Promise<T>;
}

export async function benchUi(opts: { images?: number } = {}): Promise<UiRow[]> {
  const images = opts.images ?? 20_000;
  const rows: UiRow[] = [];
  const work = mkdtempSync(join(tmpdir(), 'graft-bench-ui-'));
  try {
    const started = Date.now();
    await generateProject(work, { images, classes: 10 });
    process.stderr.write(`  ui: ${images} images generated in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
    const ui = await startUiProcess(work);
    try {
      const base = new URL(ui.url);
      if (existsSync(CHROMIUM)) rows.push(...await browse(ui.url, images));
      else process.stderr.write(`  ui: ${CHROMIUM} not found; the data page was not measured\n`);
      rows.push(await frozenRun(base, ui.url, images));
      rows.push({ case: `ui server peak RSS (${images} images)`, unit: 'MB', graft: +peakRssMb(ui.child.pid!).toFixed(0), reference: 1024, against: 'goal' });
    } finally {
      await ui.stop();
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return rows;
}

/** The data page in a real browser: time to its first loaded thumbnails, then a scroll through the grid. */
async function browse(url: string, images: number): Promise<UiRow[]> {
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu'] });
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const thumbs = new Set<string>();
    page.on('request', (r) => { if (r.url().includes('/api/images/thumb')) thumbs.add(r.url()); });
    const t0 = Date.now();
    await page.goto(url);
    await page.waitForFunction((n) => document.querySelector('[data-testid=image-grid]')?.getAttribute('data-total') === String(n)
      && [...document.querySelectorAll<HTMLImageElement>('[data-testid=tile] img')].filter((i) => i.complete && i.naturalWidth > 0).length >= 12, images, { timeout: 120_000 });
    const openMs = Date.now() - t0;
    // Scroll the grid to the end in steps, as a person would, letting each step's thumbnails load.
    for (let i = 1; i <= 20; i++) {
      await page.getByTestId('image-grid').evaluate((el, f) => { el.scrollTop = f * (el.scrollHeight - el.clientHeight); }, i / 20);
      await page.waitForTimeout(150);
    }
    // The rows at the end are drawn once their page of the image list has come.
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=tile]').length > 0, undefined, { timeout: 30_000 });
    const domImages = await page.getByTestId('tile').count();
    return [
      { case: `ui data page first thumbnails (${images} images)`, unit: 'ms', graft: openMs, reference: 2000, against: 'goal' },
      { case: `ui thumbnails fetched by a scroll to the end (${images} images)`, unit: 'images', graft: thumbs.size, reference: images, against: 'all images' },
      { case: 'ui tiles in the DOM after the scroll', unit: 'images', graft: domImages, reference: images, against: 'all images' },
    ];
  } finally {
    await browser.close();
  }
}

/** A frozen run with the default backbone on every image (one view per image: the default five make the feature pass five times as long), started through the API the train page uses, waited for to the end. */
async function frozenRun(base: URL, url: string, images: number): Promise<UiRow> {
  const t0 = Date.now();
  const run = await api<{ id: string }>(base, '/api/runs', { method: 'POST', body: JSON.stringify({ config: { epochs: 3, views: 1 } }) });
  for (;;) {
    const info = await api<{ status: string; error: string | null; bestAcc: number | null }>(base, `/api/runs/${run.id}`);
    if (info.status !== 'running') {
      if (info.status !== 'done') throw new Error(`the run on ${url} ended ${info.status}: ${info.error}`);
      process.stderr.write(`  ui: frozen run on ${images} images: best accuracy ${info.bestAcc}\n`);
      break;
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
  return { case: `ui frozen run, 3 epochs, 1 view (${images} images)`, unit: 's', graft: +((Date.now() - t0) / 1000).toFixed(1), reference: null, against: 'n/a' };
}
