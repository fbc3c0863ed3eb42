import { AsyncLocalStorage } from 'node:async_hooks';
import type { Tensor } from '../graph/tensor.ts';
import { checkRuntimeOptions, defaultRuntimeOptions, workerThreads, type RuntimeOptions } from './options.ts';
import { createSession, type Executable } from './session.ts';
import { SessionPool } from './session-pool.ts';
import { probeBlockedLayout } from './blocked-layout.ts';
import { realizeWith } from './realize.ts';
import { FeedBuffers } from './feed-buffers.ts';

/** Sessions compiled inside one `withTransientSessions`, released when it ends. */
interface TransientScope { readonly sessions: Map<string, Promise<Executable>>; readonly parent: TransientScope | null }

/**
 * Where graphs run: the options, the compiled sessions (by graph signature, least recently used
 * first) and what was learned of the machine. A job owns one, or shares one on purpose (a server
 * shares its sessions between requests); releasing it releases everything it compiled. Code that
 * runs inside `rt.run(fn)` (and everything it awaits) realizes tensors with `rt`. With the
 * 'workers' executor it also owns a pool of worker threads (session-pool.ts), started with its
 * first session and stopped by `release()` once no session lives in it, or by `close()`.
 */
export class Runtime {
  readonly options: RuntimeOptions;
  private readonly cache = new Map<string, Promise<Executable>>();
  private readonly scopes = new AsyncLocalStorage<TransientScope>();
  private readonly openScopes = new Set<TransientScope>();
  private blockSize: Promise<number> | undefined;
  private pool: SessionPool | null = null;
  private closed = false;
  /** Input batches lent to runs (withFeed); one each for the workers and one being filled. */
  readonly feedBuffers: FeedBuffers;

  constructor(options: Partial<RuntimeOptions> = {}) {
    this.options = { ...defaultRuntimeOptions(), ...checkRuntimeOptions(options) };
    this.feedBuffers = new FeedBuffers(this.options.workers + 1);
  }

  /** Changes how graphs run from now on; sessions compiled before keep their settings until released. */
  configure(update: Partial<RuntimeOptions>): void {
    Object.assign(this.options, checkRuntimeOptions(update));
    if (update.blockedLayout !== undefined || update.provider !== undefined) this.blockSize = undefined;
  }

  /** Runs `fn` with this runtime as the current one for everything it does, awaited or not. */
  run<T>(fn: () => T): T {
    return runtimeContext.run(this, fn);
  }

  /**
   * Runs `use` with a float32 input of `shape` that `fill` writes into a buffer this runtime
   * lends and takes back: the run that reads it moves the buffer to the session's thread instead
   * of copying it, and afterwards the input can no longer be read (see FeedBuffers.withFeed).
   * For batches fed once, as feature extraction and batch prediction feed images.
   */
  withFeed<T>(shape: readonly number[], fill: (values: Float32Array) => void, use: (input: Tensor) => Promise<T>): Promise<T> {
    return this.feedBuffers.withFeed(shape, fill, use);
  }

  /** Computes the targets in one run of one compiled graph. */
  realize(targets: readonly Tensor[]): Promise<void> {
    return realizeWith(this, targets);
  }

  /** The block of ONNX Runtime's blocked CPU layout here, or 0 where it is off or missing. */
  blockedLayoutBlockSize(): Promise<number> {
    if (!this.options.blockedLayout || this.options.provider !== 'cpu') return Promise.resolve(0);
    this.blockSize ??= probeBlockedLayout((bytes) => this.createExecutable(bytes, 'the blocked-layout probe'));
    return this.blockSize;
  }

  /** A session for ONNX bytes, on the executor the options name; `label` names it in errors. */
  createExecutable(bytes: Uint8Array, label: string): Promise<Executable> {
    if (this.closed) return Promise.reject(new Error('This runtime was closed; create a new Runtime to run graphs'));
    if (this.options.executor === 'inline') return createSession(bytes, this.options);
    this.pool ??= new SessionPool({ workers: this.options.workers, maxQueuedRuns: this.options.maxQueuedRuns });
    return this.pool.createSession(bytes, { ...this.options, threads: workerThreads(this.options) }, label);
  }

  /** The session compiled for `signature`, compiling it with `build` the first time; `describe` names it in errors. */
  session(signature: string, build: () => Uint8Array, describe: () => string = () => 'a graph'): Promise<Executable> {
    const scope = this.scopes.getStore() ?? null;
    for (let s = scope; s; s = s.parent) {
      const found = s.sessions.get(signature);
      if (found) return found;
    }
    const cached = this.cache.get(signature);
    if (cached) {
      this.cache.delete(signature);
      this.cache.set(signature, cached);
      return cached;
    }
    const created = this.createExecutable(build(), describe());
    const home = scope ? scope.sessions : this.cache;
    home.set(signature, created);
    created.catch(() => home.delete(signature));
    while (this.cache.size > this.options.maxSessions) {
      const [oldest, victim] = this.cache.entries().next().value!;
      this.cache.delete(oldest);
      releaseQuietly(victim);
    }
    return created;
  }

  /**
   * Runs `fn` and then releases the sessions it compiled: for graphs that bake values used once
   * (validation with the weights of one epoch), which would otherwise stay cached until evicted.
   * Scopes that run at once (two validations of two jobs) keep their sessions apart.
   */
  async withTransientSessions<T>(fn: () => Promise<T>): Promise<T> {
    const scope: TransientScope = { sessions: new Map(), parent: this.scopes.getStore() ?? null };
    this.openScopes.add(scope);
    try {
      return await this.scopes.run(scope, fn);
    } finally {
      this.openScopes.delete(scope);
      for (const s of scope.sessions.values()) releaseQuietly(s);
      scope.sessions.clear();
    }
  }

  /** Sessions held now, cached or inside a transient scope. */
  get sessionCount(): number {
    let n = this.cache.size;
    for (const s of this.openScopes) n += s.sessions.size;
    return n;
  }

  /** Worker threads running now: the pool's size while it is started, else 0. */
  get workerThreads(): number {
    return this.pool?.size ?? 0;
  }

  /**
   * Releases every cached session (at the end of a job, or before measuring memory), and stops the
   * worker threads when no session lives in them any more; a later run starts them again.
   */
  async release(): Promise<void> {
    const all = [...this.cache.values()];
    this.cache.clear();
    await Promise.all(all.map(releaseQuietly));
    if (this.pool && this.pool.sessionCount === 0) await this.stopPool();
  }

  /**
   * Releases every session, transient ones included, and stops the worker threads: for a server
   * shutting down. Runs still in flight reject; the runtime refuses work from then on.
   */
  async close(): Promise<void> {
    this.closed = true;
    const all = [...this.cache.values(), ...[...this.openScopes].flatMap((s) => [...s.sessions.values()])];
    this.cache.clear();
    for (const s of this.openScopes) s.sessions.clear();
    await this.stopPool();
    await Promise.all(all.map(releaseQuietly));
  }

  private async stopPool(): Promise<void> {
    const pool = this.pool;
    this.pool = null;
    await pool?.close();
  }
}

/** Releases a session that may have failed to compile; a failed one has nothing to release. */
function releaseQuietly(s: Promise<Executable>): Promise<void> {
  return s.then((e) => e.release()).catch(() => {});
}

const runtimeContext = new AsyncLocalStorage<Runtime>();
/** The runtime of code that runs outside any `Runtime.run` (scripts, the one-shot CLI). */
let processRuntime: Runtime | undefined;

/** The runtime the calling code runs in: the innermost `rt.run(...)`, else the process' own. */
export function currentRuntime(): Runtime {
  return runtimeContext.getStore() ?? (processRuntime ??= new Runtime());
}
