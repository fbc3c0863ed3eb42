import { useEffect, useState } from 'preact/hooks';
import { subscribe } from '../events.ts';

const KEPT = 50;

/** A run's log lines (skipped files, early stop, the cache) as they come while the page is open. */
export function RunLog({ run }: { run: string }) {
  const [lines, setLines] = useState<string[]>([]);
  useEffect(() => {
    setLines([]);
    return subscribe((e) => {
      if (e.type === 'log' && e.run === run) setLines((l) => [...l.slice(-(KEPT - 1)), e.line]);
    });
  }, [run]);
  if (lines.length === 0) return null;
  return <pre class="run-log" data-testid="run-log">{lines.join('\n')}</pre>;
}
