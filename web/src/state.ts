import { useEffect, useState } from 'preact/hooks';
import type { BackboneChoice, Project, RunInfo } from '../../src/ui/api.ts';
import { api } from './api.ts';
import { onReconnect, subscribe } from './events.ts';

export interface AppState {
  project: Project | null;
  runs: RunInfo[];
  models: BackboneChoice[];
  /** A failure loading the state, shown at the top of every page. */
  error: string | null;
}

function upsert(runs: RunInfo[], run: RunInfo): RunInfo[] {
  const i = runs.findIndex((r) => r.id === run.id);
  if (i < 0) return [run, ...runs].sort((a, b) => b.createdAt.localeCompare(a.createdAt) || b.id.localeCompare(a.id));
  const next = runs.slice();
  next[i] = run;
  return next;
}

/** The project, its runs and the backbones, loaded once and kept current by the event stream. */
export function useAppState(): [AppState, (runs: RunInfo[]) => void] {
  const [state, setState] = useState<AppState>({ project: null, runs: [], models: [], error: null });
  useEffect(() => {
    const load = () => Promise.all([api.project(), api.runs(), api.models()])
      .then(([project, runs, models]) => setState({ project, runs, models, error: null }))
      .catch((e: Error) => setState((s) => ({ ...s, error: e.message })));
    const stop = subscribe((event) => {
      if (event.type === 'project') setState((s) => ({ ...s, project: event.project }));
      if (event.type === 'run') setState((s) => ({ ...s, runs: upsert(s.runs, event.run) }));
    });
    const stopReconnect = onReconnect(() => void load());
    void load();
    return () => { stop(); stopReconnect(); };
  }, []);
  return [state, (runs) => setState((s) => ({ ...s, runs }))];
}
