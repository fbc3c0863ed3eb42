import { readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { runInNewContext } from 'node:vm';
import { setFlagsFromString } from 'node:v8';
import { jobs, type TrainEvent } from '../src/index.ts';

const root = resolve(import.meta.dirname, '..');
const sample = join(root, 'assets', 'sample-data', 'hymenoptera-mini');
const backbone = `onnx:${join(root, 'assets', 'backbones', 'mobilenetv2-12-int8.onnx')}`;
const predictor = join(root, 'test', 'fixtures', 'export', 'model');

export interface SoakOptions {
  /** predict() calls measured, after the warm-up. */
  calls: number;
  /** predict() calls before the first memory reading, so caches and arenas have grown to size. */
  warmup: number;
  /** A scratch folder: the training job writes its model folder there. */
  dir: string;
  onProgress?: (done: number) => void;
}

export interface SoakResult {
  calls: number;
  wallSeconds: number;
  rssAfterWarmupMb: number;
  rssEndMb: number;
  /** rssEnd / rssAfterWarmup - 1. */
  rssGrowth: number;
  medianCallMs: number;
  slowestCallMs: number;
  /** Whether the training job was still running when every call returned. */
  everyCallBesideTraining: boolean;
  /** Optimizer steps the training job took while the measured calls ran. */
  trainingStepsDuringLoop: number;
  trainingEpochs: number;
}

/** A full collection, so the readings measure what is held, not what is not yet collected. */
function collector(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}
const rssMb = () => process.memoryUsage().rss / 2 ** 20;

/**
 * Long-lived process in miniature: a training job (a head on the bundled int8 backbone, epoch
 * after epoch) and a loop of one-image predict() calls on another model, at once in one process.
 * Returns how the loop fared and what the process' memory did over it.
 */
export async function predictBesideTraining(o: SoakOptions): Promise<SoakResult> {
  const gc = collector();
  const stop = new AbortController();
  let steps = 0;
  let epochs = 0;
  let firstEpoch!: () => void;
  const trained = new Promise<void>((r) => { firstEpoch = r; });
  const onEvent = (e: TrainEvent) => {
    if (e.type === 'step') steps++;
    if (e.type === 'epoch-end') { epochs++; firstEpoch(); }
  };
  let trainingRunning = true;
  const training = jobs.train(sample, { model: backbone, epochs: 1_000_000, batchSize: 4, scheduler: 'none', augment: 'none', featureCache: false }, {
    out: join(o.dir, 'model'), signal: stop.signal, onEvent,
  }).finally(() => { trainingRunning = false; });
  training.catch(() => firstEpoch());
  await trained;

  const model = await jobs.loadModel(predictor);
  const images = ['ants', 'bees'].flatMap((c) => readdirSync(join(sample, 'val', c)).sort().map((f) => readFileSync(join(sample, 'val', c, f))));
  let call = 0;
  let besideTraining = true;
  const once = async () => {
    const [p] = await jobs.predict(model, [images[call++ % images.length]], { topk: 1 });
    if (p.error) throw new Error(`predict failed: ${p.error}`);
    besideTraining &&= trainingRunning;
  };
  const times: number[] = [];
  let rssAfterWarmupMb = 0;
  let rssEndMb = 0;
  let wallSeconds = 0;
  let trainingStepsDuringLoop = 0;
  try {
    for (let i = 0; i < o.warmup; i++) await once();
    gc();
    rssAfterWarmupMb = rssMb();
    const stepsBefore = steps;
    const started = performance.now();
    for (let i = 0; i < o.calls; i++) {
      const t0 = performance.now();
      await once();
      times.push(performance.now() - t0);
      if ((i + 1) % 500 === 0) o.onProgress?.(i + 1);
    }
    wallSeconds = (performance.now() - started) / 1000;
    trainingStepsDuringLoop = steps - stepsBefore;
    gc();
    rssEndMb = rssMb();
  } finally {
    stop.abort();
  }
  await training;
  times.sort((a, b) => a - b);
  return {
    calls: o.calls, wallSeconds, rssAfterWarmupMb, rssEndMb, rssGrowth: rssEndMb / rssAfterWarmupMb - 1,
    medianCallMs: times[Math.floor(times.length / 2)], slowestCallMs: times[times.length - 1],
    everyCallBesideTraining: besideTraining, trainingStepsDuringLoop, trainingEpochs: epochs,
  };
}
