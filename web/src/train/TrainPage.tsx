import { useState } from 'preact/hooks';
import type { BackboneChoice, Project, RunInfo, StartRun } from '../../../src/ui/api.ts';
import { api } from '../api.ts';
import { RunCharts } from './RunCharts.tsx';
import { RunLog } from './RunLog.tsx';
import { RunProgressPanel } from './RunProgressPanel.tsx';
import { TrainForm } from './TrainForm.tsx';
import { useRunDetail } from './useRunDetail.ts';

/** The Train page: the settings, Start and Stop, and the run going now (or the last one) live. */
export function TrainPage({ project, runs, models }: { project: Project; runs: RunInfo[]; models: BackboneChoice[] }) {
  const [error, setError] = useState<string | null>(null);
  const running = runs.find((r) => r.status === 'running') ?? null;
  const shown = running ?? runs[0] ?? null;
  const detail = useRunDetail(shown?.id ?? null);
  const filled = project.classes.filter((c) => c.count > 0).length;
  const canTrain = filled < 2 ? `Training needs two classes with images (the project has ${filled}).` : null;

  const start = async (request: StartRun) => {
    setError(null);
    await api.startRun(request).catch((e: Error) => setError(e.message));
  };
  const stop = async () => {
    if (running) await api.stopRun(running.id).catch((e: Error) => setError(e.message));
  };

  return (
    <div class="train-page">
      <header class="page-head"><h2>Train</h2></header>
      <TrainForm models={models} running={running !== null} canTrain={canTrain} onStart={start} onStop={stop} />
      {error ? <p class="error" data-testid="train-error">{error}</p> : null}
      {detail ? (
        <section class="run-live">
          <h3>{running ? 'Training now' : 'The last run'}</h3>
          <RunProgressPanel detail={detail} />
          <RunLog run={detail.id} />
          <RunCharts detail={detail} />
        </section>
      ) : null}
    </div>
  );
}
