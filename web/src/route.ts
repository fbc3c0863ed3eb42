import { useEffect, useState } from 'preact/hooks';

export const PAGES = ['data', 'train', 'runs', 'inspect', 'test', 'export'] as const;
export type Page = (typeof PAGES)[number];

function current(): Page {
  const name = location.hash.replace(/^#\/?/, '');
  return (PAGES as readonly string[]).includes(name) ? (name as Page) : 'data';
}

/** The page shown, kept in the address's hash so a reload and the back button keep it. */
export function usePage(): Page {
  const [page, setPage] = useState<Page>(current);
  useEffect(() => {
    const changed = () => setPage(current());
    addEventListener('hashchange', changed);
    return () => removeEventListener('hashchange', changed);
  }, []);
  return page;
}
