import { availableParallelism } from 'node:os';
import { DecodeError } from './decode.ts';
import { checkBoolean, checkInteger, invalidType } from '../errors/index.ts';
import type { ImageTensor } from './image.ts';
import type { DatasetSample, ImageDataset, SkippedFile } from './datasets/dataset.ts';
import { Rng } from './rng.ts';
import { loadSample } from './sample.ts';
import { transformFromSpec, type Transform, type TransformSpec } from './transforms/transform.ts';
import { WorkerPool, type Slot } from './worker-pool.ts';
import { rgbImage } from './image.ts';
import { Batch } from './batch.ts';

export { Batch, type SkippedFile };

export interface LoaderSummary {
  loaded: number;
  skipped: SkippedFile[];
}

export interface DataLoaderOptions {
  batchSize?: number;
  shuffle?: boolean;
  seed?: number;
  dropLast?: boolean;
  /** Decode + transform; must end with ToTensor (default: ToTensor only). */
  transform?: Transform;
  /** Worker threads; 0 decodes on the calling thread (sharp still decodes off it). */
  workers?: number;
  /** Batches prepared ahead of the consumer; bounds memory together with batchSize. */
  prefetch?: number;
  /** Throw on the first bad file (a special file the scan left out included) instead of skipping it with a warning. */
  strict?: boolean;
  maxPixels?: number;
  /**
   * When the transform starts with a bilinear RandomResizedCrop, crop and resize inside the
   * decoder (default true): same crop boxes, same generator draws, resampled by libvips instead
   * of PIL's exact algorithm. Deterministic transforms (Resize, CenterCrop) always run exactly.
   */
  nativeCrop?: boolean;
  onWarning?: (skipped: SkippedFile) => void;
}

/**
 * Batches of Float32 NCHW images with labels, `for await (const batch of loader)`. Each pass is an
 * epoch: the order (when shuffling) and every random transform are drawn from (seed, epoch,
 * sample index), so a run is reproducible whatever the number of workers. Bad files are skipped
 * with a warning naming them (or are errors when `strict`), and the batch is filled from the
 * next files so every batch but the last has batchSize images. With graft's tensors loaded (any
 * import of graft, nn or above), `for await (const [x, y] of loader)` gives tensors (see Batch). Memory is bounded by the window
 * of samples in flight (batchSize * prefetch + 2 per worker), not by the dataset. With worker
 * threads, `images` is a view of a SharedArrayBuffer the workers wrote into.
 */
export class DataLoader implements AsyncIterable<Batch> {
  readonly dataset: ImageDataset;
  readonly batchSize: number;
  readonly shuffle: boolean;
  readonly seed: number;
  readonly dropLast: boolean;
  readonly prefetch: number;
  readonly strict: boolean;
  readonly workers: number;
  /** The epoch the next iteration runs; advances after each pass. */
  epoch = 0;
  private readonly transform?: Transform;
  private readonly spec: TransformSpec | null;
  private readonly maxPixels?: number;
  private readonly nativeCrop: boolean;
  private readonly onWarning: (s: SkippedFile) => void;
  private readonly bad = new Map<string, string>();
  private loaded = 0;
  private pool?: WorkerPool;
  /** Floats per sample, learnt from the transform: batch buffers are allocated to this. */
  private sampleSize?: number;

  constructor(dataset: ImageDataset, options: DataLoaderOptions = {}) {
    if (!dataset || !Array.isArray(dataset.samples)) throw invalidType('dataset', 'a dataset with samples', dataset);
    this.dataset = dataset;
    this.batchSize = checkInteger('batchSize', options.batchSize ?? 1, { min: 1 });
    this.shuffle = checkBoolean('shuffle', options.shuffle ?? false);
    this.seed = checkInteger('seed', options.seed ?? 0);
    this.dropLast = checkBoolean('dropLast', options.dropLast ?? false);
    this.prefetch = checkInteger('prefetch', options.prefetch ?? 2, { min: 1 });
    this.strict = checkBoolean('strict', options.strict ?? false);
    this.transform = options.transform;
    if (options.maxPixels !== undefined) this.maxPixels = checkInteger('maxPixels', options.maxPixels, { min: 1 });
    this.nativeCrop = checkBoolean('nativeCrop', options.nativeCrop ?? true);
    this.onWarning = options.onWarning ?? ((s) => console.warn(`graft: skipping ${s.file}: ${s.reason}`));
    // What the folder scan left out is reported now, before any epoch, like the bad files found later.
    for (const s of dataset.skipped ?? []) {
      if (this.strict && !s.byExtension) throw new DecodeError(s.file, s.reason);
      this.onWarning(s);
    }
    this.spec = this.transform ? portableSpec(this.transform) : null;
    const defaultWorkers = Math.min(2, availableParallelism());
    this.workers = checkInteger('workers', options.workers ?? (this.spec || !this.transform ? defaultWorkers : 0), { min: 0, max: 64 });
    if (this.workers > 0 && this.transform && !this.spec) {
      throw invalidType('transform', 'transforms registered with registerTransform when workers > 0 (or set workers: 0)', this.transform.name);
    }
  }

  /** Batches per epoch if no file is skipped. */
  get length(): number {
    const n = this.dataset.samples.length;
    return this.dropLast ? Math.floor(n / this.batchSize) : Math.ceil(n / this.batchSize);
  }

  summary(): LoaderSummary {
    return { loaded: this.loaded, skipped: [...(this.dataset.skipped ?? []), ...[...this.bad].map(([file, reason]) => ({ file, reason }))] };
  }

  /** Sample order for an epoch: a seeded permutation when shuffling. */
  order(epoch: number): Int32Array {
    const n = this.dataset.samples.length;
    if (!this.shuffle) return Int32Array.from({ length: n }, (_, i) => i);
    return new Rng([this.seed, epoch, 0x5348]).permutation(n);
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Batch> {
    const epoch = this.epoch++;
    const order = this.order(epoch);
    const samples = this.dataset.samples;
    if (this.workers > 0 && !this.pool) this.pool = new WorkerPool(this.workers, this.spec, this.maxPixels, this.nativeCrop);
    this.sampleSize ??= this.guessSampleSize();
    const window = this.batchSize * this.prefetch + this.workers * 2;
    const inflight = new Map<number, Promise<ImageTensor | null>>();
    const slots = new BatchSlots(this.batchSize, this.sampleSize, !!this.pool);
    let next = 0;
    let consumed = 0;
    const start = () => {
      while (next < order.length && next - consumed < window) {
        const sample = samples[order[next]];
        // Files known to be bad take no slot, so later epochs keep batches aligned to buffers.
        const slot = this.bad.has(sample.path) ? undefined : slots.next();
        const task = this.load(sample, [this.seed, epoch, order[next]], slot);
        // Awaited in order later; until then a strict-mode failure must not count as unhandled.
        task.catch(() => {});
        inflight.set(next++, task);
      }
    };
    let pending: { tensor: ImageTensor; sample: DatasetSample }[] = [];
    try {
      start();
      while (consumed < order.length) {
        const tensor = await inflight.get(consumed)!;
        const sample = samples[order[consumed]];
        inflight.delete(consumed++);
        start();
        if (tensor) {
          this.sampleSize = tensor.data.length;
          pending.push({ tensor, sample });
        }
        if (pending.length === this.batchSize) {
          yield this.collate(pending);
          pending = [];
        }
      }
      if (pending.length > 0 && !this.dropLast) yield this.collate(pending);
    } finally {
      // Settle what is still running so no rejection goes unhandled when the consumer stops early.
      await Promise.allSettled(inflight.values());
    }
  }

  /** The transform's output size from a small dummy image; a wrong guess only costs a copy. */
  private guessSampleSize(): number {
    try {
      const out = this.transform ? this.transform.apply(rgbImage(8, 8), new Rng(0)) : null;
      return out?.kind === 'tensor' ? out.data.length : 0;
    } catch {
      return 0;
    }
  }

  private async load(sample: DatasetSample, seeds: number[], slot?: BatchSlot): Promise<ImageTensor | null> {
    const known = this.bad.get(sample.path);
    if (known !== undefined) {
      if (this.strict) throw new DecodeError(sample.path, known);
      return null;
    }
    try {
      const out = slot ? new Float32Array(slot.buffer, slot.offset * 4, slot.length) : undefined;
      const t = this.pool
        ? await this.pool.run(sample.path, seeds, slot as Slot | undefined)
        : await loadSample(sample.path, this.transform, seeds, { maxPixels: this.maxPixels, nativeCrop: this.nativeCrop, out });
      this.loaded++;
      return t;
    } catch (error) {
      if (!(error instanceof DecodeError) || this.strict) throw error;
      this.bad.set(sample.path, error.reason);
      this.onWarning({ file: sample.path, reason: error.reason });
      return null;
    }
  }

  private collate(items: { tensor: ImageTensor; sample: DatasetSample }[]): Batch {
    const first = items[0].tensor;
    const size = first.channels * first.height * first.width;
    // Zero copy when the samples were written into consecutive slots of one batch buffer.
    const inPlace = items.every(({ tensor }, i) => tensor.data.buffer === first.data.buffer && tensor.data.byteOffset === i * size * 4 && tensor.data.length === size);
    const images = inPlace ? new Float32Array(first.data.buffer, 0, items.length * size) : new Float32Array(items.length * size);
    const numClasses = this.dataset.classes.length;
    const labels = this.dataset.multiLabel ? new Float32Array(items.length * numClasses) : new Int32Array(items.length);
    items.forEach(({ tensor, sample }, i) => {
      if (tensor.channels !== first.channels || tensor.height !== first.height || tensor.width !== first.width) {
        throw new RangeError(`Cannot batch ${sample.path}: its tensor is ${tensor.channels}x${tensor.height}x${tensor.width} but the batch's is ${first.channels}x${first.height}x${first.width}; add Resize/CenterCrop or RandomResizedCrop to the transform`);
      }
      if (!inPlace) images.set(tensor.data, i * size);
      if (labels instanceof Float32Array) for (const t of sample.target as readonly number[]) labels[i * numClasses + t] = 1;
      else labels[i] = sample.target as number;
    });
    return new Batch(images, [items.length, first.channels, first.height, first.width], labels, items.map((x) => x.sample.path));
  }

  /** Stops the worker threads; the loader starts them again if iterated later. */
  async close(): Promise<void> {
    await this.pool?.close();
    this.pool = undefined;
  }
}

/** The transform's spec if it can be rebuilt in a worker, else null. */
function portableSpec(transform: Transform): TransformSpec | null {
  try {
    const spec = transform.spec();
    transformFromSpec(spec);
    return spec;
  } catch {
    return null;
  }
}

/** A sample's place in a batch buffer, in floats; shared memory when workers write it. */
type BatchSlot = { buffer: ArrayBufferLike; offset: number; length: number };

/**
 * Hands out consecutive slots of per-batch buffers. Workers write each sample's tensor straight
 * into its slot, so a batch is assembled without copying on the consumer's thread, and the cost of
 * touching fresh memory is paid in parallel by the workers. A buffer is shared memory when worker
 * threads write to it.
 */
class BatchSlots {
  private count = 0;
  private buffer?: ArrayBufferLike;

  constructor(private readonly batchSize: number, private readonly sampleSize: number, private readonly shared: boolean) {}

  next(): BatchSlot | undefined {
    if (this.sampleSize === 0) return undefined;
    const index = this.count++ % this.batchSize;
    if (index === 0) {
      const bytes = this.batchSize * this.sampleSize * 4;
      this.buffer = this.shared ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes);
    }
    return { buffer: this.buffer!, offset: index * this.sampleSize, length: this.sampleSize };
  }
}
