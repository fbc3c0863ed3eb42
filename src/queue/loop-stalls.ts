import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';

/**
 * The longest the event loop went without a turn, since the last look: with sessions run inline,
 * one batch's run holds it, and BullMQ renews a shard's lock only on a turn of the loop. A stall
 * near the lock's duration would hand a live worker's shard to another (redone, not lost).
 */
export class LoopStalls {
  private readonly histogram: IntervalHistogram;

  constructor() {
    this.histogram = monitorEventLoopDelay({ resolution: 20 });
    this.histogram.enable();
  }

  /** The longest stall in ms since the last call, and starts counting afresh. */
  takeLongestMs(): number {
    const ms = this.histogram.max / 1e6;
    this.histogram.reset();
    return Number.isFinite(ms) ? ms : 0;
  }

  stop(): void {
    this.histogram.disable();
  }
}
