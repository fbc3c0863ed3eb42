import type { BadFile } from '../../../src/ui/api.ts';

const SHOWN = 200;

/** Files that cannot be used, by name, with the reason. */
export function BadFiles({ bad, title = 'Files that cannot be used' }: { bad: BadFile[]; title?: string }) {
  if (bad.length === 0) return null;
  return (
    <section class="bad-files" data-testid="bad-files">
      <h3>{title} ({bad.length})</h3>
      <ul>
        {bad.slice(0, SHOWN).map((b) => <li key={b.id}><code>{b.id}</code>: {b.reason}</li>)}
      </ul>
      {bad.length > SHOWN ? <p class="muted">and {bad.length - SHOWN} more</p> : null}
    </section>
  );
}
