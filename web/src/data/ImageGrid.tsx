import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import type { ImageInfo } from '../../../src/ui/api.ts';
import { api, thumbUrl } from '../api.ts';

/** A tile's box with its gap, in CSS pixels. */
const TILE = 120;
const PAGE = 200;
/** Rows drawn above and below the visible ones, so a short scroll shows no blank tiles. */
const OVERSCAN = 2;

interface Props {
  cls: string | null;
  /** Changes whenever the project's images change: the pages are fetched again. */
  version: number;
  selected: Set<string>;
  /** Files that cannot be used, by id, with the reason: drawn as such, their thumbnails not asked for. */
  bad: Map<string, string>;
  onSelect: (ids: string[], mode: 'toggle' | 'add') => void;
}

interface CachedPage { version: number; images: ImageInfo[] }

/**
 * The thumbnails of a class (or of all images) in a virtualized grid: only the rows in view are
 * in the DOM, their pages of ids fetched as they come into view, their thumbnails loaded by the
 * browser as the tiles appear. A project of 20,000 images keeps a few dozen tiles alive.
 */
export function ImageGrid({ cls, version, selected, bad, onSelect }: Props) {
  const box = useRef<HTMLDivElement>(null);
  const [view, setView] = useState({ top: 0, height: 480, width: 960 });
  const [total, setTotal] = useState<number | null>(null);
  const pages = useRef(new Map<number, CachedPage>());
  const loading = useRef(new Set<string>());
  const [, redraw] = useState(0);
  const last = useRef<number | null>(null);
  const shown = useRef(cls);
  shown.current = cls;

  useEffect(() => {
    pages.current = new Map();
    setTotal(null);
    box.current?.scrollTo({ top: 0 });
  }, [cls]);

  useLayoutEffect(() => {
    const el = box.current!;
    const measure = () => setView({ top: el.scrollTop, height: el.clientHeight, width: el.clientWidth });
    measure();
    const observer = new ResizeObserver(measure);
    observer.observe(el);
    let frame = 0;
    const scrolled = () => {
      if (!frame) frame = requestAnimationFrame(() => { frame = 0; measure(); });
    };
    el.addEventListener('scroll', scrolled, { passive: true });
    return () => { observer.disconnect(); el.removeEventListener('scroll', scrolled); cancelAnimationFrame(frame); };
  }, []);

  const columns = Math.max(1, Math.floor(view.width / TILE));
  // The row's spare width spread between the columns.
  const cell = Math.max(TILE, view.width / columns);
  const rows = Math.ceil((total ?? 0) / columns);
  const firstRow = Math.max(0, Math.floor(view.top / TILE) - OVERSCAN);
  const lastRow = Math.min(Math.max(rows, 1) - 1, Math.ceil((view.top + view.height) / TILE) + OVERSCAN);
  const first = firstRow * columns;
  // Until the first page answers, nothing is drawn; that page is asked for all the same.
  const end = total === null ? 0 : Math.min(total, (lastRow + 1) * columns);

  useEffect(() => {
    for (let p = Math.floor(first / PAGE); p <= Math.floor(Math.max(first, end - 1) / PAGE); p++) {
      const cached = pages.current.get(p);
      const key = `${cls ?? ''}:${version}:${p}`;
      if (cached?.version === version || loading.current.has(key)) continue;
      loading.current.add(key);
      const forClass = cls;
      api.images({ class: cls ?? undefined, offset: p * PAGE, limit: PAGE }).then((page) => {
        if (forClass !== shown.current) return;
        pages.current.set(p, { version, images: page.images });
        setTotal(page.total);
        redraw((n) => n + 1);
      }).catch(() => undefined).finally(() => loading.current.delete(key));
    }
  });

  const imageAt = (i: number) => pages.current.get(Math.floor(i / PAGE))?.images[i % PAGE];
  const click = (i: number, image: ImageInfo, e: MouseEvent) => {
    if (e.shiftKey && last.current !== null) {
      const ids: string[] = [];
      for (let k = Math.min(last.current, i); k <= Math.max(last.current, i); k++) {
        const im = imageAt(k);
        if (im) ids.push(im.id);
      }
      onSelect(ids, 'add');
    } else {
      onSelect([image.id], 'toggle');
    }
    last.current = i;
  };

  const tiles = [];
  for (let i = first; i < end; i++) {
    const image = imageAt(i);
    const style = { top: `${Math.floor(i / columns) * TILE}px`, left: `${Math.floor((i % columns) * cell + (cell - TILE) / 2)}px` };
    if (!image) {
      tiles.push(<div key={`empty-${i}`} class="tile empty" style={style} />);
      continue;
    }
    tiles.push(
      <button
        type="button" key={image.id} class={`tile${selected.has(image.id) ? ' selected' : ''}`} style={style}
        title={bad.has(image.id) ? `${image.id}: ${bad.get(image.id)}` : image.id} data-testid="tile" data-id={image.id} onClick={(e) => click(i, image, e)}
      >
        {bad.has(image.id)
          ? <span class="tile-bad" data-testid="tile-bad">{bad.get(image.id)}</span>
          : <img src={thumbUrl(image.id)} alt="" loading="lazy" width={104} height={104} />}
        {cls === null || image.split ? <span class="tile-label">{[image.split, cls === null ? image.class : null].filter(Boolean).join(' · ')}</span> : null}
      </button>,
    );
  }

  return (
    <div class="grid" ref={box} data-testid="image-grid" data-total={total ?? ''}>
      <div class="grid-inner" style={{ height: `${rows * TILE}px` }}>{tiles}</div>
      {total === 0 ? <p class="muted grid-empty">No images yet: drop files or folders here, pick them, paste, or use the webcam.</p> : null}
    </div>
  );
}
