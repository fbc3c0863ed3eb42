import type { RunInfo } from '../../src/ui/api.ts';
import { modelName, percent } from './format.ts';

export interface Picker { runs: RunInfo[]; selected: RunInfo | null; select: (id: string) => void }

/** Which trained run a page works on. */
export function RunPicker({ picker }: { picker: Picker }) {
  if (!picker.selected) return <p class="muted" data-testid="no-trained-run">No trained run yet: train one on the <a href="#/train">Train</a> page.</p>;
  return (
    <label class="run-picker">
      Run{' '}
      <select data-testid="run-picker" value={picker.selected.id} onChange={(e) => picker.select((e.target as HTMLSelectElement).value)}>
        {picker.runs.map((r) => (
          <option key={r.id} value={r.id}>{r.id} · {modelName(r.model)} · {r.mode} · best {percent(r.bestAcc)}</option>
        ))}
      </select>
    </label>
  );
}
