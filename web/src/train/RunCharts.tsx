import type { RunDetail } from '../../../src/ui/api.ts';
import { COLORS, LineChart } from '../LineChart.tsx';

const pct = (v: number) => `${Math.round(v * 100)}%`;

/** A run's per-step loss and its per-epoch train and validation curves. */
export function RunCharts({ detail }: { detail: RunDetail }) {
  const perEpoch = new Map<number, number>();
  for (const s of detail.steps) perEpoch.set(s.epoch, Math.max(perEpoch.get(s.epoch) ?? 0, s.step));
  const live = detail.progress?.step;
  if (live) perEpoch.set(live.epoch, live.steps);
  // Steps (counted from 1 in each epoch) on the epoch axis: the loss and the epoch curves read against the same numbers.
  const stepX = detail.steps.map((s) => s.epoch - 1 + s.step / Math.max(1, perEpoch.get(s.epoch) ?? s.step));
  const history = [...detail.history].sort((a, b) => a.epoch - b.epoch);
  const epochs = history.map((h) => h.epoch);
  return (
    <div class="charts">
      <LineChart
        title="Loss per step" testid="chart-steps" xLabel="epoch" x={stepX}
        series={[{ label: 'train loss', values: detail.steps.map((s) => s.loss), color: COLORS[0] }]}
      />
      <LineChart
        title="Loss per epoch" testid="chart-epoch-loss" xLabel="epoch" x={epochs}
        series={[
          { label: 'train', values: history.map((h) => h.train_loss), color: COLORS[0] },
          { label: 'val', values: history.map((h) => h.val_loss), color: COLORS[1] },
        ]}
      />
      <LineChart
        title="Accuracy per epoch" testid="chart-epoch-acc" xLabel="epoch" x={epochs} yFormat={pct}
        series={[
          { label: 'train', values: history.map((h) => h.train_acc), color: COLORS[0] },
          { label: 'val', values: history.map((h) => h.val_acc), color: COLORS[1] },
        ]}
      />
    </div>
  );
}
