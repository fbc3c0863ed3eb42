import { WorkerPool } from '../data/worker-pool.ts';
import { DecodeError } from '../data/decode.ts';
import { createPredictor, type Predictor } from '../jobs/predictor.ts';
import type { Runtime } from '../runtime/runtime.ts';
import { DynamicBatcher } from './batcher.ts';
import { badRequest, overloaded, tooLarge } from './http-error.ts';
import type { ServeOptions } from './options.ts';

/** What a served model reports after each batch and while it queues (metrics.ts). */
export interface ModelObserver {
  onBatch(model: string, size: number, ms: number): void;
}

/**
 * One model behind the server: its compiled predictor, the worker threads that decode and
 * preprocess its images, and the batcher that gathers them. `admitted` counts the images it
 * holds anywhere (decoding, queued, running) and is what bounds its memory: a request that would
 * take it past `maxQueue` is refused with 503 before anything of it is decoded.
 */
export class ServedModel {
  private admitted = 0;
  private decoding = 0;
  private readonly batcher: DynamicBatcher<Float32Array, Float32Array>;
  private readonly perImage: number;

  private constructor(
    readonly name: string,
    readonly predictor: Predictor,
    private readonly pool: WorkerPool,
    private readonly options: ServeOptions,
    observer: ModelObserver,
  ) {
    const [c, h, w] = predictor.inputShape;
    this.perImage = c * h * w;
    this.batcher = new DynamicBatcher((inputs) => this.runBatch(inputs), {
      maxBatch: options.maxBatch,
      maxWaitMs: options.maxWaitMs,
      concurrency: options.workers,
      incoming: () => this.decoding,
      onBatch: (size, ms) => observer.onBatch(name, size, ms),
    });
  }

  static async load(name: string, loaded: Parameters<typeof createPredictor>[0], runtime: Runtime, options: ServeOptions, observer: ModelObserver): Promise<ServedModel> {
    const predictor = await createPredictor(loaded, { runtime });
    // Decoded and preprocessed as `graft predict` does: the model's eval transform on the whole image.
    const pool = new WorkerPool(options.decodeWorkers, loaded.transform.spec(), options.maxPixels, false);
    return new ServedModel(name, predictor, pool, options, observer);
  }

  /** Images held now: decoding, queued or running. */
  get inFlight(): number {
    return this.admitted;
  }

  /** Images waiting for a batch now. */
  get queueDepth(): number {
    return this.batcher.depth;
  }

  /**
   * Classifies encoded images: each is decoded and preprocessed on a worker thread, then batched
   * with whatever else is queued. `names[i]` says where image i came from in errors. Resolves
   * with one row of probabilities per image.
   */
  async classifyImages(images: readonly Uint8Array[], names: readonly string[]): Promise<Float32Array[]> {
    return this.admit(images.length, (deadline) => Promise.all(images.map(async (bytes, i) => {
      this.decoding++;
      let tensor: Float32Array;
      try {
        // The worker takes the buffer: give it a copy of its own (a request body may share its memory).
        tensor = (await this.pool.run(new Uint8Array(bytes), [0])).data;
      } catch (error) {
        throw decodeFailure(error as Error, names[i], this.options.maxPixels);
      } finally {
        this.decoding--;
      }
      if (tensor.length !== this.perImage) throw badRequest(`${names[i]}: preprocessed to ${tensor.length} values, the model takes ${this.perImage}`);
      return this.batcher.submit(tensor, deadline);
    })));
  }

  /** Classifies `n` images already preprocessed: [n, 3, crop, crop] one after another in `data`. */
  async classifyTensors(data: Float32Array, n: number): Promise<Float32Array[]> {
    return this.admit(n, (deadline) => Promise.all(Array.from({ length: n }, (_, i) => this.batcher.submit(data.subarray(i * this.perImage, (i + 1) * this.perImage), deadline))));
  }

  /** Finishes what is queued and stops the decoding threads. */
  async close(): Promise<void> {
    await this.batcher.drain();
    await this.pool.close();
    await this.predictor.release();
  }

  /**
   * Holds `n` images for as long as `work` has them, refusing them when the model is full, and
   * answers 503 once the request timeout passes (the images still count until they leave).
   */
  private async admit<T>(n: number, work: (deadline: number) => Promise<T>): Promise<T> {
    if (this.admitted + n > this.options.maxQueue) {
      throw overloaded(`model ${this.name} is busy: ${this.admitted} images in flight, at most ${this.options.maxQueue}; retry shortly`);
    }
    this.admitted += n;
    const deadline = performance.now() + this.options.timeoutMs;
    const done = work(deadline).finally(() => { this.admitted -= n; });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(overloaded(`model ${this.name} did not answer within ${this.options.timeoutMs} ms; retry shortly`)), this.options.timeoutMs);
    });
    try {
      return await Promise.race([done, timeout]);
    } finally {
      clearTimeout(timer);
      done.catch(() => {});
    }
  }

  private async runBatch(inputs: Float32Array[]): Promise<Float32Array[]> {
    const batch = new Float32Array(inputs.length * this.perImage);
    inputs.forEach((x, i) => batch.set(x, i * this.perImage));
    const probs = await this.predictor.run(batch, inputs.length);
    const k = this.predictor.classes;
    return inputs.map((_, i) => probs.subarray(i * k, (i + 1) * k));
  }
}

/** A decoding failure as the client's error: 413 for the pixel limit, 400 for anything else unreadable. */
function decodeFailure(error: Error, name: string, maxPixels: number): Error {
  if (!(error instanceof DecodeError)) return error;
  if (/pixel limit|too many pixels|decompression bomb/i.test(error.reason)) {
    return tooLarge(`${name}: the image has more pixels than the ${maxPixels} this server decodes (its --max-pixels)`);
  }
  return badRequest(`${name}: cannot decode the image: ${error.reason}`);
}
