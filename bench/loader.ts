/**
 * Loader throughput against torchvision, measured in the same run: hymenoptera's full-size
 * training JPEGs to normalized 224x224 batches with RandomResizedCrop and a horizontal flip.
 * graft's DataLoader and torchvision's DataLoader(num_workers=2) run alternately, several rounds,
 * and each side reports its median, so load from other processes hits both alike.
 *
 *   node --import tsx bench/loader.ts [--rounds 3] [--epochs 3] [--workers 2] [--root DIR]
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  Compose, DataLoader, ImageFolder, IMAGENET_MEAN, IMAGENET_STD, Normalize, RandomHorizontalFlip, RandomResizedCrop, ToTensor,
} from '../src/data/index.ts';
import { median } from './median.ts';

export interface LoaderBenchOptions {
  root?: string;
  batchSize?: number;
  workers?: number;
  rounds?: number;
  epochs?: number;
  python?: string;
}

export interface LoaderBenchRow { case: string; unit: string; graft: number; pytorch: number | null; ratio: number | null }

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '..');

interface Measured { imagesPerSecond: number; cpuMsPerImage: number }

async function graftRun(root: string, batchSize: number, workers: number, epochs: number): Promise<Measured> {
  const transform = new Compose([new RandomResizedCrop(224), new RandomHorizontalFlip(), new ToTensor(), new Normalize(IMAGENET_MEAN, IMAGENET_STD)]);
  const loader = new DataLoader(new ImageFolder(root), { batchSize, shuffle: true, workers, transform });
  try {
    for await (const _ of loader); // warm-up epoch: worker start-up, page cache, JIT
    let images = 0;
    const cpu = process.cpuUsage(); // every thread of the process: workers and libvips included
    const start = performance.now();
    for (let e = 0; e < epochs; e++) for await (const batch of loader) images += batch.shape[0];
    const seconds = (performance.now() - start) / 1000;
    const used = process.cpuUsage(cpu);
    return { imagesPerSecond: images / seconds, cpuMsPerImage: (used.user + used.system) / 1000 / images };
  } finally {
    await loader.close();
  }
}

function torchAvailable(python: string): boolean {
  return spawnSync(python, ['-c', 'import torch, torchvision'], { stdio: 'ignore' }).status === 0;
}

function pytorchRun(python: string, root: string, batchSize: number, workers: number, epochs: number): Measured | null {
  const script = path.join(here, 'pytorch_loader.py');
  const r = spawnSync(python, [script, root, '--batch-size', String(batchSize), '--workers', String(workers), '--epochs', String(epochs + 1)], { encoding: 'utf8' });
  if (r.status !== 0) {
    process.stderr.write(`pytorch loader benchmark failed: ${r.stderr}\n`);
    return null;
  }
  const out = JSON.parse(r.stdout.trim().split('\n').pop()!);
  return { imagesPerSecond: out.images_per_s, cpuMsPerImage: out.cpu_ms_per_image };
}

export async function benchLoader(opts: LoaderBenchOptions = {}): Promise<LoaderBenchRow[]> {
  const root = opts.root ?? path.resolve(repoRoot, '..', 'shared', 'data', 'hymenoptera', 'train');
  if (!existsSync(root)) {
    process.stderr.write(`loader benchmark skipped: ${root} not found\n`);
    return [];
  }
  const { batchSize = 32, workers = 2, rounds = 3, epochs = 3, python = '/usr/bin/python3' } = opts;
  const withTorch = existsSync(python) && torchAvailable(python);
  const graft: Measured[] = [];
  const torch: Measured[] = [];
  for (let r = 0; r < rounds; r++) {
    graft.push(await graftRun(root, batchSize, workers, epochs));
    const t = withTorch ? pytorchRun(python, root, batchSize, workers, epochs) : null;
    if (t !== null) torch.push(t);
  }
  const row = (what: string, unit: string, pick: (m: Measured) => number, digits: number): LoaderBenchRow => {
    const g = median(graft.map(pick));
    const p = torch.length ? median(torch.map(pick)) : null;
    return {
      case: `loader hymenoptera RandomResizedCrop(224)+flip b${batchSize} workers=${workers}${what}`,
      unit,
      graft: +g.toFixed(digits),
      pytorch: p === null ? null : +p.toFixed(digits),
      ratio: p === null ? null : +(g / p).toFixed(3),
    };
  };
  // Throughput is the target; CPU time per image shows efficiency apart from other load on the machine.
  return [row('', 'images/s', (m) => m.imagesPerSecond, 1), row(' cpu', 'cpu ms/img', (m) => m.cpuMsPerImage, 2)];
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const arg = (name: string) => {
    const i = process.argv.indexOf(`--${name}`);
    return i > 0 ? process.argv[i + 1] : undefined;
  };
  const num = (name: string) => (arg(name) === undefined ? undefined : Number(arg(name)));
  const rows = await benchLoader({ root: arg('root'), rounds: num('rounds'), epochs: num('epochs'), workers: num('workers'), batchSize: num('batch-size') });
  for (const row of rows) console.log(JSON.stringify(row));
}
