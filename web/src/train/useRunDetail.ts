import { useEffect, useState } from 'preact/hooks';
import type { RunDetail } from '../../../src/ui/api.ts';
import { api } from '../api.ts';
import { onReconnect, subscribe } from '../events.ts';

/**
 * A run's detail, loaded once and then kept current by the event stream: its steps and epochs
 * as they come, its status and progress. Events that arrive while the detail loads are not lost:
 * steps and epochs are merged by their numbers.
 */
export function useRunDetail(id: string | null): RunDetail | null {
  const [detail, setDetail] = useState<RunDetail | null>(null);
  useEffect(() => {
    setDetail(null);
    if (!id) return;
    let early: RunDetail['steps'] = [];
    let loaded = false;
    const load = () => api.run(id).then((d) => {
      loaded = true;
      const seen = new Set(d.steps.map((s) => `${s.epoch}:${s.step}`));
      setDetail({ ...d, steps: [...d.steps, ...early.filter((s) => !seen.has(`${s.epoch}:${s.step}`))] });
      early = [];
    }).catch(() => undefined);
    const stop = subscribe((event) => {
      if (event.type === 'step' && event.run === id) {
        const point = { epoch: event.epoch, step: event.step, loss: event.loss };
        if (!loaded) early.push(point);
        else setDetail((d) => (d ? { ...d, steps: [...d.steps, point] } : d));
      }
      if (event.type === 'epoch' && event.run === id) {
        setDetail((d) => (d ? { ...d, history: [...d.history.filter((h) => h.epoch !== event.record.epoch), event.record] } : d));
      }
      if (event.type === 'run' && event.run.id === id) {
        setDetail((d) => (d ? { ...d, ...event.run } : d));
        // A run that ended: its detail as the server keeps it (best epoch, classes).
        if (event.run.status !== 'running') void load();
      }
    });
    const stopReconnect = onReconnect(() => void load());
    void load();
    return () => { stop(); stopReconnect(); };
  }, [id]);
  return detail;
}
