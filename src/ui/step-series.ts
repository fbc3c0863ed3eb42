export interface StepPoint { epoch: number; step: number; loss: number }

/**
 * A run's per-step losses, bounded: every step is kept until there are `max`, then every other
 * one is dropped and from then on only every second step is taken, then every fourth, and so on.
 * The curve keeps its shape over the whole run in at most `max` points, and `take` says which
 * steps are kept, so a run read back from its log is thinned the same way.
 */
export class StepSeries {
  private stride = 1;
  private seen = 0;
  readonly points: StepPoint[] = [];

  constructor(private readonly max = 2000) {}

  /** Whether the next step is kept; call once per step, then `add` it when true. */
  take(): boolean {
    return this.seen++ % this.stride === 0;
  }

  add(point: StepPoint): void {
    this.points.push(point);
    if (this.points.length <= this.max) return;
    let kept = 0;
    for (let i = 0; i < this.points.length; i += 2) this.points[kept++] = this.points[i];
    this.points.length = kept;
    // The points kept are the steps on the coarser grid; the steps to come are taken on it too.
    this.stride *= 2;
  }
}
