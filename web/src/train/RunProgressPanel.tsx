import type { RunDetail } from '../../../src/ui/api.ts';
import { duration, modelName, percent } from '../format.ts';

/** Where a run stands: its phase, feature extraction, epoch and step, speed and time left. */
export function RunProgressPanel({ detail }: { detail: RunDetail }) {
  const p = detail.progress;
  const running = detail.status === 'running';
  return (
    <div class="progress-panel" data-testid="run-progress" data-status={detail.status} data-epochs-done={detail.history.length}>
      <div class="progress-line">
        <strong>{detail.id}</strong>
        <span class={`status ${detail.status}`} data-testid="run-status">{detail.status}</span>
        <span class="muted">{modelName(detail.model)} · {detail.mode}</span>
        {detail.bestAcc !== null ? <span>best val accuracy <strong data-testid="best-acc">{percent(detail.bestAcc)}</strong> (epoch {detail.bestEpoch})</span> : null}
      </div>
      {running && p ? (
        <div class="progress-line">
          <span data-testid="run-phase">{p.phase}</span>
          {p.features ? (
            <span data-testid="features-progress">
              features of the {p.features.split} images: {p.features.done} / {p.features.total}{' '}
              <progress max={p.features.total} value={p.features.done} />
            </span>
          ) : null}
          {p.epochs ? <span>epoch {p.epoch} / {p.epochs}</span> : null}
          {p.step ? <span>step {p.step.step} / {p.step.steps} · loss {p.step.loss.toFixed(4)}</span> : null}
          <span data-testid="images-per-second">{p.imagesPerSecond !== null ? `${p.imagesPerSecond.toFixed(1)} images/s` : ''}</span>
          <span data-testid="eta">ETA {duration(p.etaSeconds)}</span>
        </div>
      ) : null}
      {detail.error ? <p class="error">{detail.error}</p> : null}
    </div>
  );
}
