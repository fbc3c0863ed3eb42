import { readFileSync } from 'node:fs';
import { lstat, readdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import type { ExecutionProvider } from '../runtime/options.ts';
import { Runtime } from '../runtime/runtime.ts';
import { tensor } from '../graph/tensor.ts';
import { relu } from '../nn/functional.ts';
import { defaultGraftCacheDir, defaultTorchCacheDir } from '../formats/download.ts';
import { defaultFeatureCacheDir } from '../train/feature-cache.ts';
import { WEIGHTS_CATALOG } from '../models/catalog.ts';
import { table } from './table.ts';
import { graftPackage } from '../jobs/version.ts';

/**
 * `graft doctor`: what this machine gives graft, for a bug report or a first install. Every part is
 * checked by doing it (loading the native modules, running a graph on each execution provider),
 * and a part that fails is reported with its error instead of stopping the others.
 */

/** Every provider graft's runtime accepts: the Record makes the compiler flag one added later. */
const PROVIDERS = Object.keys({ cpu: 0, webgpu: 0, cuda: 0 } satisfies Record<ExecutionProvider, 0>) as ExecutionProvider[];
/** A provider whose adapter or driver blocks is reported as such rather than waited for. */
const PROBE_TIMEOUT_MS = 20_000;

const require = createRequire(import.meta.url);
const packageJson = (path: string) => JSON.parse(readFileSync(path, 'utf8')) as { version: string };

interface Check { ok: boolean; version?: string; error?: string }
export interface CacheFolder { name: string; path: string; exists: boolean; files: number; bytes: number }
export interface DoctorReport {
  ok: boolean;
  graft: { version: string };
  node: { version: string; required: string; ok: boolean };
  platform: { os: string; arch: string; cpus: number; memoryBytes: number };
  onnxruntime: Check;
  sharp: Check & { libvips?: string };
  executionProviders: { name: ExecutionProvider; available: boolean; error?: string }[];
  caches: CacheFolder[];
  /** torchvision weight files (by the names torchvision downloads them as) found in a cache. */
  torchvisionWeights: { arch: string; weights: string; file: string; cache: string }[];
}

const firstLine = (e: unknown) => String(e instanceof Error ? e.message : e).split('\n')[0].trim();
/** ONNX Runtime's messages open with its source location and a failed assertion; the reason is at the end. */
const providerError = (e: unknown) => {
  const line = firstLine(e);
  const reason = line.lastIndexOf('Failed to');
  return reason > 0 ? line.slice(reason) : line;
};

/** `>=20` and the like: the Node major version graft's package.json requires. */
function nodeOk(required: string): boolean {
  const min = /^>=\s*(\d+)/.exec(required)?.[1];
  return min === undefined || Number(process.versions.node.split('.')[0]) >= Number(min);
}

/** Imports a native module; `version` reads its version from it (sharp's exports hide its package.json). */
async function loads(name: string, version: (module: Record<string, unknown>) => string | undefined): Promise<Check & { module?: Record<string, unknown> }> {
  try {
    const module = (await import(name)) as Record<string, unknown>;
    return { ok: true, version: version(module) ?? 'unknown version', module };
  } catch (e) {
    return { ok: false, error: firstLine(e) };
  }
}

/** Runs a one-op graph on `provider` through graft's own runtime, as training would. */
async function probeProvider(provider: ExecutionProvider): Promise<{ available: boolean; error?: string }> {
  const rt = new Runtime({ provider, threads: 1 });
  let timer: NodeJS.Timeout | undefined;
  try {
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${PROBE_TIMEOUT_MS / 1000} s`)), PROBE_TIMEOUT_MS);
    });
    const out = await Promise.race([rt.run(() => relu(tensor([1, -2], [2])).floats()), timeout]);
    if (out[0] !== 1 || out[1] !== 0) return { available: false, error: `relu([1, -2]) gave [${Array.from(out)}]` };
    return { available: true };
  } catch (e) {
    return { available: false, error: providerError(e) };
  } finally {
    clearTimeout(timer);
    await rt.close().catch(() => {});
  }
}

/** Files and bytes under `path`, links not followed. */
export async function folderSize(name: string, path: string): Promise<CacheFolder> {
  const folder: CacheFolder = { name, path, exists: false, files: 0, bytes: 0 };
  try {
    if (!(await lstat(path)).isDirectory()) return folder;
  } catch {
    return folder;
  }
  folder.exists = true;
  const pending = [path];
  while (pending.length) {
    const dir = pending.pop()!;
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    for (const e of entries) {
      const p = join(dir, e.name);
      if (e.isDirectory()) pending.push(p);
      else if (e.isFile()) {
        folder.files++;
        folder.bytes += (await lstat(p).catch(() => ({ size: 0 }))).size;
      }
    }
  }
  return folder;
}

async function cachedTorchvisionWeights(caches: CacheFolder[]): Promise<DoctorReport['torchvisionWeights']> {
  const found: DoctorReport['torchvisionWeights'] = [];
  for (const cache of caches.filter((c) => c.exists)) {
    const names = new Set(await readdir(cache.path).catch(() => []));
    for (const w of WEIGHTS_CATALOG) if (names.has(w.fileName)) found.push({ arch: w.arch, weights: w.name, file: w.fileName, cache: cache.name });
  }
  return found;
}

export async function doctorReport(): Promise<DoctorReport> {
  const required = graftPackage.engines?.node ?? '>=20';
  const ort = await loads('onnxruntime-node', () => packageJson(require.resolve('onnxruntime-node/package.json')).version);
  const sharpVersions = (m: Record<string, unknown>) => (m.default as { versions?: { sharp?: string; vips?: string } }).versions;
  const sharp = await loads('sharp', (m) => sharpVersions(m)?.sharp);
  const vips = sharp.module ? sharpVersions(sharp.module)?.vips : undefined;
  // ONNX Runtime logs a provider that fails to load on stderr; the report carries the reason.
  if (ort.module) (ort.module.env as { logLevel: string }).logLevel = 'fatal';
  const executionProviders: DoctorReport['executionProviders'] = [];
  for (const name of PROVIDERS) {
    executionProviders.push({ name, ...(ort.ok ? await probeProvider(name) : { available: false, error: 'onnxruntime-node does not load' }) });
  }
  const caches = await Promise.all([
    folderSize('graft weights', defaultGraftCacheDir()),
    folderSize('graft features', defaultFeatureCacheDir()),
    folderSize('PyTorch hub checkpoints', defaultTorchCacheDir()),
  ]);
  const node = { version: process.version, required, ok: nodeOk(required) };
  const cpu = executionProviders.find((p) => p.name === 'cpu')!;
  const strip = ({ module: _, ...check }: Check & { module?: Record<string, unknown> }): Check => check;
  return {
    ok: node.ok && ort.ok && sharp.ok && cpu.available,
    graft: { version: graftPackage.version },
    node,
    platform: { os: `${os.type()} ${os.release()}`, arch: process.arch, cpus: os.availableParallelism(), memoryBytes: os.totalmem() },
    onnxruntime: strip(ort),
    sharp: { ...strip(sharp), ...(vips ? { libvips: vips } : {}) },
    executionProviders,
    caches,
    torchvisionWeights: await cachedTorchvisionWeights([caches[0], caches[2]]),
  };
}

const size = (bytes: number) => (bytes >= 1e9 ? `${(bytes / 1e9).toFixed(1)} GB` : bytes >= 1e6 ? `${(bytes / 1e6).toFixed(1)} MB` : `${(bytes / 1e3).toFixed(1)} kB`);
const mark = (ok: boolean | 'info') => (ok === 'info' ? '-      ' : ok ? 'ok     ' : 'PROBLEM');

function formatReport(r: DoctorReport): string {
  const check = (c: Check) => (c.ok ? `${c.version}` : `does not load: ${c.error}`);
  const lines = [
    `${mark(true)}  graft ${r.graft.version}`,
    `${mark(r.node.ok)}  Node ${r.node.version} (graft needs ${r.node.required}) on ${r.platform.os} ${r.platform.arch}, ${r.platform.cpus} cores, ${size(r.platform.memoryBytes)}`,
    `${mark(r.onnxruntime.ok)}  onnxruntime-node ${check(r.onnxruntime)}`,
    `${mark(r.sharp.ok)}  sharp ${check(r.sharp)}${r.sharp.libvips ? ` (libvips ${r.sharp.libvips})` : ''}`,
    ...r.executionProviders.map((p) => `${mark(p.available || (p.name === 'cpu' ? false : 'info'))}  execution provider ${p.name}: ${p.available ? 'available' : `not available (${p.error})`}`),
    '',
    table(['cache', 'folder', 'files', 'size'], r.caches.map((c) => [c.name, c.path, c.exists ? String(c.files) : '-', c.exists ? size(c.bytes) : 'none'])).trimEnd(),
    '',
    r.torchvisionWeights.length
      ? `torchvision weights already downloaded (graft uses them without a download):\n${r.torchvisionWeights.map((w) => `  ${w.arch} ${w.weights}  ${w.file}  (${w.cache})`).join('\n')}`
      : 'No torchvision weights in PyTorch\'s cache or graft\'s: zoo models download theirs on first use.',
  ];
  return `${lines.join('\n')}\n`;
}

export async function doctorCommand(flags: { json?: boolean }): Promise<void> {
  const report = await doctorReport();
  process.stdout.write(flags.json ? `${JSON.stringify(report, null, 1)}\n` : formatReport(report));
  if (!report.ok) process.exitCode = 1;
}

export function registerDoctor(program: Command): void {
  program.command('doctor')
    .description('check Node, ONNX Runtime, sharp and the execution providers, and list the cache folders')
    .option('--json', 'print JSON')
    .action(doctorCommand);
}
