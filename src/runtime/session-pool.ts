import { Worker } from 'node:worker_threads';
import { workerEntry } from '../data/worker-entry.ts';
import type * as ort from 'onnxruntime-node';
import type { Executable, SessionOptions } from './session.ts';
import type { FeedLease } from './feed-buffers.ts';
import { RuntimeBusyError, WorkerCrashError } from './errors.ts';
import { stageFeeds, toOrtTensors, SESSION_WORKER_ROLE, type FromWorker, type ToWorker, type WireTensor } from './worker-messages.ts';

/** A model given to the pool. Its bytes stay here while it lives, so a worker without its session can create one. */
interface PooledModel {
  readonly id: number;
  readonly label: string;
  readonly options: SessionOptions;
  bytes: Uint8Array | null;
  readonly holders: Set<Slot>;
}

/** A run waiting for a worker or running in one; without feeds it only creates the model's session. */
interface Job {
  readonly model: PooledModel;
  /** Read when the job starts, as ONNX Runtime reads inline feeds when the run starts. */
  readonly feeds: Record<string, ort.Tensor> | null;
  /** Buffers of feeds moved to the worker rather than copied; settled when the job settles. */
  readonly lent: readonly FeedLease[];
  /** Posted to a worker: from then on its lent buffers are there, and come back with the reply or not at all. */
  sent: boolean;
  resolve(outputs: Record<string, ort.Tensor> | null): void;
  reject(error: Error): void;
}

/** Settles a job's lent buffers: with those that came back, else the caller's own when the job never left, else as lost. */
function returnLent(job: Job, back: readonly ArrayBuffer[] | null): void {
  job.lent.forEach((lease, i) => lease.settle(back ? back[i] ?? null : job.sent ? null : lease.buffer));
}

/** One worker thread and what the pool knows of it. */
interface Slot {
  readonly index: number;
  readonly thread: Worker;
  readonly exited: Promise<void>;
  /** It has loaded ONNX Runtime and listens. */
  ready: boolean;
  running: { job: Job; message: number } | null;
  readonly sessions: Set<PooledModel>;
  /** Releases sent and not yet acknowledged, by message id. */
  readonly releases: Map<number, () => void>;
  /** The buffer feeds are copied into; with the worker during a run, else here. */
  staging: ArrayBuffer | null;
  lastError: Error | null;
}

export interface SessionPoolOptions {
  workers: number;
  /** Runs that may wait for a busy pool; the next one is refused with a RuntimeBusyError. */
  maxQueuedRuns: number;
}

/** Workers that die before they are ready, one after another, before the pool gives up. */
const START_ATTEMPTS = 3;

/**
 * ONNX Runtime sessions in a fixed set of worker threads, behind the same Executable seam as
 * inline sessions, so the calling thread's event loop stays free while graphs run.
 *
 * - Each worker runs one graph at a time; runs that find every worker busy wait in one FIFO
 *   queue of at most `maxQueuedRuns`.
 * - A model's session is created in one worker when the model is given to the pool. A run goes to
 *   an idle worker that holds the model's session; when all of those are busy, it goes to another
 *   idle worker, which creates a session of its own from the model's bytes (kept here) and keeps
 *   it. So a lone job's sequential runs stay with one session, while concurrent requests for one
 *   model spread over the workers, at the price of one compilation and one copy of the model's
 *   memory per worker that serves it. New models go to the idle worker holding fewest sessions.
 * - Lent feeds (Runtime.withFeed) move to the worker and back with their run, not copied; other
 *   feeds are copied into a buffer of the worker's that goes there and back with each run (see
 *   stageFeeds); results come back as transferred buffers, not copied. Every lent buffer is
 *   settled when its run settles: back from the worker, back unsent, or lost with a worker.
 * - Releasing a model releases its session in every worker that holds one.
 * - A worker that stops rejects its run with a WorkerCrashError naming the session, and a fresh
 *   worker takes its place; queued runs go on.
 */
export class SessionPool {
  readonly size: number;
  private readonly slots: Slot[];
  private readonly queue: Job[] = [];
  private readonly models = new Set<PooledModel>();
  private readonly maxQueuedRuns: number;
  private nextModel = 0;
  private nextMessage = 0;
  private failedStarts = 0;
  /** Set once the pool is closed or cannot start workers: every later call rejects with it. */
  private stopped: Error | null = null;

  constructor(options: SessionPoolOptions) {
    this.size = options.workers;
    this.maxQueuedRuns = options.maxQueuedRuns;
    this.slots = Array.from({ length: options.workers }, (_, i) => this.spawn(i));
  }

  /** Models given to the pool and not released. */
  get sessionCount(): number {
    return this.models.size;
  }

  /** Runs waiting for a worker (a gauge for a server's metrics). */
  get queued(): number {
    return this.queue.length;
  }

  /** Sessions each worker holds, by worker (a gauge for a server's metrics). */
  sessionsPerWorker(): number[] {
    return this.slots.map((s) => s.sessions.size);
  }

  /** Creates the model's session in a worker; `label` names it in errors. */
  async createSession(bytes: Uint8Array, options: SessionOptions, label: string): Promise<Executable> {
    // A view of a larger buffer (small Buffers share one pool) would send that whole buffer to each
    // worker; a copy has its own. (Buffer's slice() is a view, hence the constructor.)
    const own = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer ? bytes : new Uint8Array(bytes);
    const model: PooledModel = { id: this.nextModel++, label, options: { ...options }, bytes: own, holders: new Set() };
    this.models.add(model);
    try {
      await this.submit(model, null);
    } catch (e) {
      this.forget(model);
      throw e;
    }
    return {
      run: async (feeds, lent = []) => (await this.submit(model, feeds, lent))!,
      release: () => this.releaseModel(model),
    };
  }

  /**
   * Makes one worker exit as a crash would: the run it holds then (or the next one sent to it)
   * rejects, its sessions are gone and a fresh worker takes its place. It exits at its next turn
   * of the event loop, so a native run in progress completes first. A hook for tests and for a
   * supervisor that retires a worker.
   */
  exitWorker(worker: number, code = 1): void {
    this.slots[worker].thread.postMessage({ kind: 'exit', code } satisfies ToWorker);
  }

  /**
   * Rejects whatever waits or runs, and stops every worker; one inside a native run stops when
   * that run returns (a thread cannot be terminated inside onnxruntime-node).
   */
  async close(): Promise<void> {
    this.stop(new Error('The runtime was closed: its worker threads are stopped'));
    await Promise.all(this.slots.map((s) => s.exited));
  }

  private submit(model: PooledModel, feeds: Record<string, ort.Tensor> | null, lent: readonly FeedLease[] = []): Promise<Record<string, ort.Tensor> | null> {
    const refuse = (error: Error) => {
      for (const lease of lent) lease.settle(lease.buffer);
      return Promise.reject(error);
    };
    if (this.stopped) return refuse(this.stopped);
    if (!model.bytes) return refuse(new Error(`${model.label} was released`));
    const slot = this.queue.length === 0 ? this.pick(model) : null;
    if (!slot && this.queue.length >= this.maxQueuedRuns) return refuse(new RuntimeBusyError(this.queue.length, this.size));
    return new Promise((resolve, reject) => {
      const job: Job = {
        model, feeds, lent, sent: false,
        resolve: (outputs) => { returnLent(job, null); resolve(outputs); },
        reject: (error) => { returnLent(job, null); reject(error); },
      };
      if (slot) this.start(slot, job);
      else this.queue.push(job);
    });
  }

  /** An idle worker for the model: one that holds its session, else the one holding fewest sessions. */
  private pick(model: PooledModel): Slot | null {
    let best: Slot | null = null;
    for (const s of this.slots) {
      if (s.running) continue;
      if (model.holders.has(s)) return s;
      if (!best || s.sessions.size < best.sessions.size) best = s;
    }
    return best;
  }

  private start(slot: Slot, job: Job): void {
    const { model } = job;
    const create = !slot.sessions.has(model);
    // Counted as held from now on, so a release sent during the run reaches this worker too (it
    // handles messages in order); the reply corrects this when the creation fails.
    slot.sessions.add(model);
    model.holders.add(slot);
    const message = this.nextMessage++;
    slot.running = { job, message };
    const lent = job.lent.map((l) => l.buffer);
    let feeds: Record<string, WireTensor> | null = null;
    let staging: ArrayBuffer | null = null;
    if (job.feeds) {
      feeds = {};
      const copied: Record<string, ort.Tensor> = {};
      for (const [name, t] of Object.entries(job.feeds)) {
        if (ArrayBuffer.isView(t.data) && lent.includes(t.data.buffer as ArrayBuffer)) feeds[name] = { type: t.type, dims: t.dims, data: t.data };
        else copied[name] = t;
      }
      if (Object.keys(copied).length) {
        const staged = stageFeeds(copied, slot.staging);
        Object.assign(feeds, staged.wire);
        staging = staged.staging;
        slot.staging = null;
      }
    }
    const run: ToWorker = { kind: 'run', id: message, session: model.id, model: create ? model.bytes : null, options: model.options, feeds, staging, lent };
    job.sent = true;
    this.post(slot, run, staging ? [staging, ...lent] : lent);
  }

  private dispatch(): void {
    while (this.queue.length && !this.stopped) {
      const slot = this.pick(this.queue[0].model);
      if (!slot) return;
      this.start(slot, this.queue.shift()!);
    }
  }

  private post(slot: Slot, message: ToWorker, transfer: ArrayBuffer[] = []): void {
    slot.thread.postMessage(message, transfer);
    this.keepAliveWhileBusy(slot);
  }

  /** A worker keeps the process alive only while it owes an answer. */
  private keepAliveWhileBusy(slot: Slot): void {
    if (slot.running || slot.releases.size) slot.thread.ref();
    else slot.thread.unref();
  }

  private onMessage(slot: Slot, m: FromWorker): void {
    if (m.kind === 'ready') {
      slot.ready = true;
      this.failedStarts = 0;
      return;
    }
    const released = slot.releases.get(m.id);
    if (released) {
      slot.releases.delete(m.id);
      released();
    } else if (slot.running?.message === m.id) {
      const { job } = slot.running;
      slot.running = null;
      slot.staging = m.staging ?? slot.staging;
      if (!m.holds) {
        slot.sessions.delete(job.model);
        job.model.holders.delete(slot);
      }
      returnLent(job, m.lent);
      if (m.error) job.reject(Object.assign(new Error(m.error.message), { name: m.error.name }));
      else job.resolve(m.outputs ? toOrtTensors(m.outputs) : null);
      this.dispatch();
    }
    this.keepAliveWhileBusy(slot);
  }

  private onExit(slot: Slot, code: number): void {
    if (this.stopped) return;
    for (const model of slot.sessions) model.holders.delete(slot);
    // A session being released died with its worker.
    for (const released of slot.releases.values()) released();
    if (slot.running) slot.running.job.reject(new WorkerCrashError(slot.index, slot.running.job.model.label, code, slot.lastError ?? undefined));
    if (!slot.ready && ++this.failedStarts >= START_ATTEMPTS) {
      const why = slot.lastError ? slot.lastError.message : `exit code ${code}`;
      this.stop(new Error(`ONNX Runtime worker threads fail to start (${why}); ${START_ATTEMPTS} tried`));
      return;
    }
    this.slots[slot.index] = this.spawn(slot.index);
    this.dispatch();
  }

  private spawn(index: number): Slot {
    const entry = workerEntry(import.meta.url, 'session-worker');
    const thread = new Worker(entry.script, { eval: entry.eval, workerData: { role: SESSION_WORKER_ROLE } });
    let exited!: () => void;
    const slot: Slot = {
      index, thread, exited: new Promise((resolve) => { exited = resolve; }),
      ready: false, running: null, sessions: new Set(), releases: new Map(), staging: null, lastError: null,
    };
    thread.on('message', (m: FromWorker) => this.onMessage(slot, m));
    thread.on('error', (e) => { slot.lastError = e; });
    thread.on('exit', (code) => {
      exited();
      this.onExit(slot, code);
    });
    thread.unref();
    return slot;
  }

  private async releaseModel(model: PooledModel): Promise<void> {
    if (!model.bytes) return;
    for (let i = this.queue.length - 1; i >= 0; i--) {
      if (this.queue[i].model === model) this.queue.splice(i, 1)[0].reject(new Error(`${model.label} was released before it ran`));
    }
    const holders = [...model.holders];
    this.forget(model);
    if (this.stopped) return;
    await Promise.all(holders.map((slot) => new Promise<void>((resolve) => {
      const message = this.nextMessage++;
      slot.releases.set(message, resolve);
      this.post(slot, { kind: 'release', id: message, session: model.id });
    })));
  }

  private forget(model: PooledModel): void {
    model.bytes = null;
    for (const slot of model.holders) slot.sessions.delete(model);
    model.holders.clear();
    this.models.delete(model);
  }

  /** Settles everything with `error` and asks every worker to exit. */
  private stop(error: Error): void {
    if (this.stopped) return;
    this.stopped = error;
    for (const job of this.queue.splice(0)) job.reject(this.stopped);
    for (const slot of this.slots) {
      slot.running?.job.reject(this.stopped);
      slot.running = null;
      for (const released of slot.releases.values()) released();
      slot.releases.clear();
    }
    for (const model of [...this.models]) this.forget(model);
    for (const slot of this.slots) {
      slot.thread.ref();
      slot.thread.postMessage({ kind: 'exit', code: 0 } satisfies ToWorker);
    }
  }
}
