import { DataPage } from './data/DataPage.tsx';
import { ExportPage } from './export/ExportPage.tsx';
import { InspectPage } from './inspect/InspectPage.tsx';
import { Nav } from './Nav.tsx';
import { usePage } from './route.ts';
import { RunsPage } from './runs/RunsPage.tsx';
import { useAppState } from './state.ts';
import { TestPage } from './test/TestPage.tsx';
import { TrainPage } from './train/TrainPage.tsx';
import { useSelectedRun } from './useSelectedRun.ts';

export function App() {
  const page = usePage();
  const [state, setRuns] = useAppState();
  const trained = state.runs.filter((r) => r.status === 'done' || (r.status === 'stopped' && r.bestAcc !== null));
  const [selected, select] = useSelectedRun(trained);
  const running = state.runs.some((r) => r.status === 'running');
  if (!state.project) {
    return <main class="page">{state.error ? <p class="error">{state.error}</p> : <p class="muted">Loading…</p>}</main>;
  }
  const picker = { runs: trained, selected, select };
  return (
    <>
      <Nav page={page} project={state.project.name} running={running} />
      <main class="page" data-testid={`page-${page}`}>
        {state.error ? <p class="error">{state.error}</p> : null}
        {page === 'data' ? <DataPage project={state.project} /> : null}
        {page === 'train' ? <TrainPage project={state.project} runs={state.runs} models={state.models} /> : null}
        {page === 'runs' ? <RunsPage runs={state.runs} onDeleted={(id) => setRuns(state.runs.filter((r) => r.id !== id))} /> : null}
        {page === 'inspect' ? <InspectPage picker={picker} project={state.project} /> : null}
        {page === 'test' ? <TestPage picker={picker} /> : null}
        {page === 'export' ? <ExportPage picker={picker} /> : null}
      </main>
    </>
  );
}
