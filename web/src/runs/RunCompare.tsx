import { useEffect, useState } from 'preact/hooks';
import type { RunDetail } from '../../../src/ui/api.ts';
import { api } from '../api.ts';
import { percent } from '../format.ts';
import { COLORS, LineChart } from '../LineChart.tsx';

const pct = (v: number) => `${Math.round(v * 100)}%`;

/** Runs side by side: their validation curves overlaid, best accuracies, and every setting, differences marked. */
export function RunCompare({ ids }: { ids: string[] }) {
  const [details, setDetails] = useState<RunDetail[]>([]);
  const key = ids.join(',');
  useEffect(() => {
    let live = true;
    Promise.all(ids.map((id) => api.run(id))).then((d) => { if (live) setDetails(d); }).catch(() => undefined);
    return () => { live = false; };
  }, [key]);
  if (details.length === 0) return null;
  const maxEpoch = Math.max(1, ...details.flatMap((d) => d.history.map((h) => h.epoch)));
  const x = Array.from({ length: maxEpoch }, (_, i) => i + 1);
  const curve = (d: RunDetail, pick: (h: RunDetail['history'][number]) => number) =>
    x.map((e) => { const h = d.history.find((r) => r.epoch === e); return h ? pick(h) : null; });
  const keys = [...new Set(details.flatMap((d) => Object.keys(d.config)))].filter((k) => k !== 'cacheDir').sort();
  const shown = (v: unknown) => (typeof v === 'string' ? v.replace(/^(onnx|tfjs):.*[\\/]/, '$1:') : JSON.stringify(v));
  return (
    <section class="compare" data-testid="run-compare">
      <h3>Compared</h3>
      <div class="charts">
        <LineChart title="Validation accuracy" testid="compare-acc" xLabel="epoch" x={x} yFormat={pct}
          series={details.map((d, i) => ({ label: d.id, values: curve(d, (h) => h.val_acc), color: COLORS[i % COLORS.length] }))} />
        <LineChart title="Validation loss" testid="compare-loss" xLabel="epoch" x={x}
          series={details.map((d, i) => ({ label: d.id, values: curve(d, (h) => h.val_loss), color: COLORS[i % COLORS.length] }))} />
      </div>
      <table class="table settings">
        <thead><tr><th>Setting</th>{details.map((d) => <th key={d.id}><code>{d.id}</code></th>)}</tr></thead>
        <tbody>
          <tr class="best"><td>best val accuracy</td>{details.map((d) => <td key={d.id}>{percent(d.bestAcc)}{d.bestEpoch !== null ? ` (epoch ${d.bestEpoch})` : ''}</td>)}</tr>
          {keys.map((k) => {
            const values = details.map((d) => shown((d.config as unknown as Record<string, unknown>)[k]));
            return (
              <tr key={k} class={new Set(values).size > 1 ? 'differs' : ''}>
                <td>{k}</td>{values.map((v, i) => <td key={details[i].id}>{v}</td>)}
              </tr>
            );
          })}
        </tbody>
      </table>
    </section>
  );
}
