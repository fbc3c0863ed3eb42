import { useState } from 'preact/hooks';
import type { RunInfo } from '../../../src/ui/api.ts';
import { api } from '../api.ts';
import { modelName, percent } from '../format.ts';
import { RunCompare } from './RunCompare.tsx';

const KEY = 'graft-ui:compare';

/** The Runs page: every run of the project, and the ones ticked compared. */
export function RunsPage({ runs, onDeleted }: { runs: RunInfo[]; onDeleted: (id: string) => void }) {
  const [ticked, setTicked] = useState<string[]>(() => JSON.parse(localStorage.getItem(KEY) ?? '[]') as string[]);
  const [deleting, setDeleting] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const tick = (id: string, on: boolean) => {
    const next = on ? [...ticked.filter((t) => t !== id), id] : ticked.filter((t) => t !== id);
    setTicked(next);
    localStorage.setItem(KEY, JSON.stringify(next));
  };
  const compared = ticked.filter((id) => runs.some((r) => r.id === id));
  const remove = async (id: string) => {
    setDeleting(null);
    try {
      await api.deleteRun(id);
      tick(id, false);
      onDeleted(id);
    } catch (e) {
      setError((e as Error).message);
    }
  };

  if (runs.length === 0) return <p class="muted" data-testid="no-runs">No runs yet: start one on the <a href="#/train">Train</a> page.</p>;
  return (
    <div class="runs-page">
      <header class="page-head"><h2>Runs</h2><span class="muted">tick two or more to compare them</span></header>
      {error ? <p class="error">{error}</p> : null}
      <table class="table" data-testid="runs-table">
        <thead><tr><th /><th>Run</th><th>Status</th><th>Backbone</th><th>Mode</th><th>Started</th><th>Best val accuracy</th><th /></tr></thead>
        <tbody>
          {runs.map((r) => (
            <tr key={r.id} data-testid={`run-row-${r.id}`}>
              <td><input type="checkbox" checked={compared.includes(r.id)} onChange={(e) => tick(r.id, (e.target as HTMLInputElement).checked)} data-testid="compare-tick" /></td>
              <td><code>{r.id}</code></td>
              <td><span class={`status ${r.status}`}>{r.status}</span>{r.error ? <small class="error"> {r.error}</small> : null}</td>
              <td>{modelName(r.model)}</td>
              <td>{r.mode}</td>
              <td>{new Date(r.createdAt).toLocaleString()}</td>
              <td>{percent(r.bestAcc)}{r.bestEpoch !== null ? <small class="muted"> (epoch {r.bestEpoch})</small> : null}</td>
              <td>
                {r.status === 'running' ? null : deleting === r.id ? (
                  <>
                    <button type="button" class="danger" onClick={() => void remove(r.id)}>Delete the run</button>
                    <button type="button" onClick={() => setDeleting(null)}>Keep</button>
                  </>
                ) : <button type="button" class="link" onClick={() => setDeleting(r.id)}>Delete</button>}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {compared.length ? <RunCompare ids={compared} /> : null}
    </div>
  );
}
