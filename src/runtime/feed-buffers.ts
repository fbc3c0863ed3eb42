import { Tensor, numel } from '../graph/tensor.ts';

/**
 * An input buffer lent to one run: the session thread may take it (moved, not copied) and must
 * hand it back, or say it is lost, before the run settles. `settle` is idempotent.
 */
export interface FeedLease {
  readonly buffer: ArrayBuffer;
  /** The buffer back (the same one, or the one that came back from the session thread), or null when it was lost with a thread. */
  settle(back: ArrayBuffer | null): void;
}

/**
 * Detaches `buffer` and returns its memory under a new handle (no copy): every view made of the
 * old handle reads as empty from then on, so nothing keeps reading a buffer once it is lent again.
 */
const detach = (buffer: ArrayBuffer): ArrayBuffer => structuredClone(buffer, { transfer: [buffer] });

/**
 * Buffers for input batches that callers fill and hand to one run (Runtime.withFeed), kept for
 * the next batch: a fresh buffer of a 224x224 batch of 32 costs page faults on every write, and
 * the session pool moves a lent buffer to its thread instead of copying it into its own. At most
 * `keep` buffers wait here; buffers in use are bounded by the runs in flight, which the pool
 * bounds by its queue.
 */
export class FeedBuffers {
  private readonly free: ArrayBuffer[] = [];
  private lentCount = 0;
  /** Lent leaves, by tensor: realize moves their buffers into the run rather than copying them. */
  private readonly leases = new WeakMap<Tensor, FeedLease>();
  /** Leases a run has taken: that run settles them, not withFeed. */
  private readonly taken = new WeakSet<FeedLease>();
  /** Leaves whose one run has taken their values. */
  private readonly spent = new WeakSet<Tensor>();

  constructor(private readonly keep: number) {}

  /** Buffers lent and not back yet. */
  get lent(): number {
    return this.lentCount;
  }

  /** Buffers waiting to be lent again. */
  get waiting(): number {
    return this.free.length;
  }

  /**
   * Runs `use` with a float32 leaf of `shape` over a lent buffer that `fill` has written (every
   * value: the buffer's earlier contents are left as they were). The first run that reads the
   * leaf takes the buffer; after it the leaf refuses to be read again and every view of the
   * buffer is detached. Whatever `use` does (a run, none, an error), the buffer comes back.
   */
  async withFeed<T>(shape: readonly number[], fill: (values: Float32Array) => void, use: (input: Tensor) => Promise<T>): Promise<T> {
    const lease = this.lend(numel(shape) * 4);
    const input = new Tensor({ shape, dtype: 'float32', value: new Float32Array(lease.buffer, 0, numel(shape)) });
    try {
      fill(input.value as Float32Array);
      this.leases.set(input, lease);
      return await use(input);
    } finally {
      // A run that took the lease settles it (perhaps later, when `use` did not wait for it); else
      // it comes back here, and the input is spent all the same.
      if (!this.taken.has(lease)) {
        this.takeLease(input);
        input.value = null;
        lease.settle(lease.buffer);
      }
    }
  }

  /**
   * The lease of a lent leaf, taken once, by realize for every leaf it feeds, right before the run:
   * whoever takes it hands it to Executable.run, which settles it.
   */
  takeLease(t: Tensor): FeedLease | null {
    const lease = this.leases.get(t) ?? null;
    if (lease) {
      this.leases.delete(t);
      this.taken.add(lease);
      this.spent.add(t);
    }
    return lease;
  }

  /** Whether the leaf's values went to a run and are gone. */
  isSpent(t: Tensor): boolean {
    return this.spent.has(t);
  }

  private lend(bytes: number): FeedLease {
    let at = -1;
    this.free.forEach((b, i) => { if (b.byteLength >= bytes && (at < 0 || b.byteLength < this.free[at].byteLength)) at = i; });
    const buffer = at >= 0 ? this.free.splice(at, 1)[0] : new ArrayBuffer(bytes);
    this.lentCount++;
    let settled = false;
    return {
      buffer,
      settle: (back) => {
        if (settled) return;
        settled = true;
        this.lentCount--;
        // A detached handle (the buffer went to a thread and this is the old handle) has nothing to keep.
        if (back && back.byteLength > 0) {
          this.free.push(detach(back));
          if (this.free.length > this.keep) this.free.shift();
        }
      },
    };
  }
}
