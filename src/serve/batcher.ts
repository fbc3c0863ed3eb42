import { overloaded } from './http-error.ts';

export interface BatcherOptions {
  /** Inputs per batch at most. */
  maxBatch: number;
  /** How long the oldest queued input may wait for others while more are on their way. */
  maxWaitMs: number;
  /** Batches running at once (one per worker that runs sessions). */
  concurrency: number;
  /**
   * Inputs admitted but not yet submitted (still being decoded): waiting is worth it only while
   * some are coming. With none coming a lone request runs at once, without the wait.
   */
  incoming: () => number;
  /** Called after every batch with its size and how long it ran. */
  onBatch?: (size: number, ms: number) => void;
}

interface Queued<In, Out> {
  input: In;
  enqueued: number;
  deadline: number;
  resolve: (out: Out) => void;
  reject: (error: Error) => void;
}

/**
 * Dynamic batching as Triton and BentoML do it: inputs submitted one at a time by concurrent
 * requests are gathered while every runner is busy (or for at most `maxWaitMs` while more are
 * coming) and run together, up to `maxBatch`; each caller gets its own row back. The queue holds
 * only what the caller admitted (served-model.ts bounds that); inputs whose deadline passed
 * while queued are dropped, never run.
 */
export class DynamicBatcher<In, Out> {
  private readonly queue: Queued<In, Out>[] = [];
  private running = 0;
  private timer: NodeJS.Timeout | null = null;
  private idleWaiters: (() => void)[] = [];
  private draining = false;

  constructor(private readonly runBatch: (inputs: In[]) => Promise<Out[]>, private readonly options: BatcherOptions) {}

  /** Inputs waiting for a batch now. */
  get depth(): number {
    return this.queue.length;
  }

  /** Resolves with this input's output once its batch has run; rejects with the batch's error, or a 503 past `deadline`. */
  submit(input: In, deadline: number): Promise<Out> {
    return new Promise((resolve, reject) => {
      this.queue.push({ input, enqueued: performance.now(), deadline, resolve, reject });
      this.pump();
    });
  }

  /** Runs what is queued without waiting for more, and resolves once nothing is queued or running. */
  drain(): Promise<void> {
    this.draining = true;
    this.pump();
    if (this.running === 0 && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private pump(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    const { maxBatch, maxWaitMs, concurrency } = this.options;
    while (this.running < concurrency && this.dropExpired() > 0) {
      const waited = performance.now() - this.queue[0].enqueued;
      const ready = this.queue.length >= maxBatch || this.options.incoming() === 0 || this.draining || waited >= maxWaitMs;
      if (!ready) {
        this.timer = setTimeout(() => this.pump(), Math.max(0, maxWaitMs - waited));
        return;
      }
      this.start(this.queue.splice(0, maxBatch));
    }
    if (this.running === 0 && this.queue.length === 0) for (const w of this.idleWaiters.splice(0)) w();
  }

  /** Rejects queued inputs whose deadline passed; returns how many remain. */
  private dropExpired(): number {
    const now = performance.now();
    for (let i = this.queue.length - 1; i >= 0; i--) {
      const q = this.queue[i];
      if (q.deadline <= now) {
        this.queue.splice(i, 1);
        q.reject(overloaded(`timed out after waiting ${Math.round(now - q.enqueued)} ms for a free worker`));
      }
    }
    return this.queue.length;
  }

  private start(batch: Queued<In, Out>[]): void {
    this.running++;
    const started = performance.now();
    this.runBatch(batch.map((q) => q.input)).then(
      (outs) => batch.forEach((q, i) => q.resolve(outs[i])),
      (error: Error) => batch.forEach((q) => q.reject(error)),
    ).finally(() => {
      this.running--;
      this.options.onBatch?.(batch.length, performance.now() - started);
      this.pump();
    });
  }
}
