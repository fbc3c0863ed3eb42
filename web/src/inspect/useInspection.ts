import { useEffect, useState } from 'preact/hooks';
import type { Inspection } from '../../../src/ui/api.ts';
import { api } from '../api.ts';

export type InspectionState = { status: 'loading' } | { status: 'error'; message: string } | { status: 'ready'; inspection: Inspection };

/** A run's inspection; the first request computes it on the server (features of every image), later ones read it back. */
export function useInspection(run: string | null): InspectionState {
  const [state, setState] = useState<InspectionState>({ status: 'loading' });
  useEffect(() => {
    if (!run) return;
    let live = true;
    setState({ status: 'loading' });
    api.inspect(run)
      .then((inspection) => { if (live) setState({ status: 'ready', inspection }); })
      .catch((e: Error) => { if (live) setState({ status: 'error', message: e.message }); });
    return () => { live = false; };
  }, [run]);
  return state;
}
