import type { TrainEvent } from '../train/fit.ts';
import type { TrainConfig } from '../train/config.ts';
import type { EpochRecord } from '../train/history.ts';
import type { RunDetail, RunInfo, RunProgress, RunStatus, UiEvent } from './api.ts';
import { StepSeries } from './step-series.ts';

/** How a run's state changes: what its log keeps and what the open pages hear. */
export type RunUpdate =
  | { type: 'epoch'; record: EpochRecord; improved: boolean }
  | { type: 'step'; epoch: number; step: number; loss: number }
  | { type: 'log'; line: string };

/**
 * One run as the web app shows it: its settings, status, epoch records, thinned step losses and
 * live progress, built from the training job's events as they come (or from its log, read back).
 * Images per second and the ETA are measured over the current phase: feature extraction counts
 * images, training counts the steps' images.
 */
export class RunRecord {
  status: RunStatus = 'running';
  finishedAt: string | null = null;
  error: string | null = null;
  bestAcc: number | null = null;
  bestEpoch: number | null = null;
  classes: string[] = [];
  readonly history: EpochRecord[] = [];
  readonly steps = new StepSeries();
  progress: RunProgress = { phase: 'starting', epoch: 0, epochs: 0, features: null, step: null, imagesPerSecond: null, etaSeconds: null };
  private phaseStart = { at: 0, images: 0 };
  private epochStartedAt = 0;
  private lastEpochSeconds: number | null = null;
  private lastEventAt = 0;
  /** Images through the steps of the current epoch (a step reports its own batch). */
  private epochImages = 0;

  constructor(readonly id: string, readonly config: TrainConfig, readonly createdAt: string) {
    this.progress.epochs = config.epochs;
  }

  info(): RunInfo {
    return {
      id: this.id, status: this.status, model: this.config.model, mode: this.config.mode, createdAt: this.createdAt,
      finishedAt: this.finishedAt, bestAcc: this.bestAcc, bestEpoch: this.bestEpoch, error: this.error,
      progress: this.status === 'running' ? { ...this.progress } : null,
    };
  }

  detail(): RunDetail {
    return { ...this.info(), config: this.config, classes: this.classes, history: [...this.history], steps: [...this.steps.points] };
  }

  /** Applies one event of the training job; returns what the log and the pages should hear (none for progress alone). */
  apply(e: TrainEvent, now = performance.now()): RunUpdate[] {
    const updates = this.applyAt(e, now);
    this.lastEventAt = now;
    return updates;
  }

  private applyAt(e: TrainEvent, now: number): RunUpdate[] {
    switch (e.type) {
      case 'dataset':
        this.classes = [...e.classes];
        this.phaseStart = { at: now, images: 0 };
        return [{ type: 'log', line: `${e.train} training and ${e.val} validation images in ${e.classes.length} classes (${e.source})` }];
      case 'features': {
        // The validation split's extraction starts where the training split's ended.
        if (this.progress.features && this.progress.features.split !== e.split) this.phaseStart = { at: this.lastEventAt, images: 0 };
        this.progress.phase = 'features';
        this.progress.features = { split: e.split, done: e.done, total: e.total };
        this.rate(now, e.done, e.total - e.done);
        return [];
      }
      case 'epoch-start':
        this.progress = { ...this.progress, phase: e.phase, epoch: e.epoch, epochs: e.epochs, features: null, step: null };
        this.epochStartedAt = now;
        this.epochImages = 0;
        this.phaseStart = { at: now, images: 0 };
        return [];
      case 'step': {
        const { batch, batches, loss, images } = e.report;
        this.progress.step = { epoch: e.epoch, step: batch, steps: batches, loss };
        this.epochImages += images;
        const perStep = batch > 0 ? this.epochImages / batch : 0;
        this.rate(now, this.epochImages, 0);
        if (this.progress.imagesPerSecond && perStep > 0) {
          const epochLeft = ((batches - batch) * perStep) / this.progress.imagesPerSecond;
          const epochSeconds = this.lastEpochSeconds ?? (now - this.epochStartedAt) / 1000 + epochLeft;
          this.progress.etaSeconds = epochLeft + Math.max(0, this.progress.epochs - e.epoch) * epochSeconds;
        }
        if (!this.steps.take()) return [];
        this.steps.add({ epoch: e.epoch, step: batch, loss });
        return [{ type: 'step', epoch: e.epoch, step: batch, loss }];
      }
      case 'epoch-end':
        this.history.push(e.record);
        this.lastEpochSeconds = e.record.seconds;
        if (e.improved || this.bestAcc === null) {
          this.bestAcc = e.record.val_acc;
          this.bestEpoch = e.record.epoch;
        }
        return [{ type: 'epoch', record: e.record, improved: e.improved }];
      case 'skip':
        return [{ type: 'log', line: `skipped ${e.file}: ${e.reason}` }];
      case 'cache-off':
        return [{ type: 'log', line: `the feature cache in ${e.dir} is off: ${e.reason}` }];
      case 'resumed':
        return [{ type: 'log', line: `resumed after epoch ${e.epoch}` }];
      case 'early-stop':
        return [{ type: 'log', line: `stopped early after epoch ${e.epoch}: no better validation accuracy` }];
      case 'stopped':
        return [{ type: 'log', line: `stopped after epoch ${e.epoch}; keeping epoch ${e.bestEpoch}` }];
    }
  }

  /** Replays an update read back from the run's log. */
  replay(u: RunUpdate): void {
    if (u.type === 'step') {
      if (this.steps.take()) this.steps.add({ epoch: u.epoch, step: u.step, loss: u.loss });
    } else if (u.type === 'epoch') {
      this.apply({ type: 'epoch-end', record: u.record, improved: u.improved });
    }
  }

  finish(status: Exclude<RunStatus, 'running'>, error: string | null = null, at = new Date().toISOString()): void {
    this.status = status;
    this.error = error;
    this.finishedAt = at;
  }

  /** The update as the pages hear it. */
  event(u: RunUpdate): UiEvent {
    if (u.type === 'epoch') return { type: 'epoch', run: this.id, record: u.record };
    if (u.type === 'step') return { type: 'step', run: this.id, epoch: u.epoch, step: u.step, loss: u.loss };
    return { type: 'log', run: this.id, line: u.line };
  }

  private rate(now: number, images: number, left: number): void {
    const seconds = (now - this.phaseStart.at) / 1000;
    const done = images - this.phaseStart.images;
    if (seconds <= 0 || done <= 0) return;
    this.progress.imagesPerSecond = done / seconds;
    if (this.progress.phase === 'features') this.progress.etaSeconds = left / this.progress.imagesPerSecond;
  }
}
