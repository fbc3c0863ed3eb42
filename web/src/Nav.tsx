import { PAGES, type Page } from './route.ts';

const TITLES: Record<Page, string> = { data: 'Data', train: 'Train', runs: 'Runs', inspect: 'Inspect', test: 'Test', export: 'Export' };

export function Nav({ page, project, running }: { page: Page; project: string; running: boolean }) {
  return (
    <nav class="nav">
      <span class="brand">graft <small>{project}</small></span>
      {PAGES.map((p) => (
        <a key={p} href={`#/${p}`} class={p === page ? 'active' : ''} data-testid={`nav-${p}`}>
          {TITLES[p]}{p === 'train' && running ? <span class="dot" title="a run is going" /> : null}
        </a>
      ))}
    </nav>
  );
}
