import { useState } from 'preact/hooks';
import type { RunInfo } from '../../src/ui/api.ts';

const KEY = 'graft-ui:selected-run';

/**
 * The trained run the Inspect, Test and Export pages work on: the one picked last (kept across
 * reloads), else the newest.
 */
export function useSelectedRun(trained: RunInfo[]): [RunInfo | null, (id: string) => void] {
  const [picked, setPicked] = useState<string | null>(() => localStorage.getItem(KEY));
  const run = trained.find((r) => r.id === picked) ?? trained[0] ?? null;
  return [run, (id) => {
    localStorage.setItem(KEY, id);
    setPicked(id);
  }];
}
