import { useCallback, useEffect, useMemo, useState } from 'preact/hooks';
import type { Project } from '../../../src/ui/api.ts';
import { count } from '../format.ts';
import { AddClass } from './AddClass.tsx';
import { BadFiles } from './BadFiles.tsx';
import { ClassCard } from './ClassCard.tsx';
import type { NamedFile } from './files.ts';
import { ImageGrid } from './ImageGrid.tsx';
import { SelectionBar } from './SelectionBar.tsx';
import { Uploader } from './Uploader.tsx';
import { useUploads } from './useUploads.ts';
import { Webcam } from './Webcam.tsx';

const KEY = 'graft-ui:data-class';

/** The Data page: classes as cards, adding images, the thumbnail grid, and the files that cannot be used. */
export function DataPage({ project }: { project: Project }) {
  const [chosen, setChosen] = useState<string | null>(() => localStorage.getItem(KEY));
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [webcam, setWebcam] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [version, setVersion] = useState(0);
  const uploads = useUploads();
  const names = project.classes.map((c) => c.name);
  const cls = chosen !== null && names.includes(chosen) ? chosen : null;

  // Every change of the project (this page's or another's) refreshes the grid's pages.
  useEffect(() => setVersion((v) => v + 1), [project]);
  const choose = (name: string | null) => {
    setChosen(name);
    setSelected(new Set());
    if (name) localStorage.setItem(KEY, name); else localStorage.removeItem(KEY);
  };
  const onFiles = useCallback((files: NamedFile[]) => { if (cls) void uploads.send(cls, files); }, [cls, uploads.send]);
  const onSelect = (ids: string[], mode: 'toggle' | 'add') => setSelected((s) => {
    const next = new Set(s);
    for (const id of ids) {
      if (mode === 'add' || !next.has(id)) next.add(id); else next.delete(id);
    }
    return next;
  });
  const selectedIds = useMemo(() => [...selected], [selected]);
  const bad = useMemo(() => new Map(project.bad.map((b) => [b.id, b.reason])), [project.bad]);

  return (
    <div class="data-page">
      <header class="page-head">
        <h2>Data</h2>
        <span class="muted" data-testid="project-summary">{count(project.images, 'image')} in {count(project.classes.length, 'class', 'classes')}{project.layout === 'splits' ? ' (train/ and val/ folders)' : ''}</span>
        <AddClass onAdded={(name) => choose(name)} onError={setError} />
      </header>
      {error ? <p class="error" data-testid="data-error" onClick={() => setError(null)}>{error}</p> : null}
      <div class="cards">
        <div class={`card class-card all${cls === null ? ' selected' : ''}`} onClick={() => choose(null)} data-testid="class-all">
          <div class="card-title"><strong>All images</strong> <span class="muted">{count(project.images, 'image')}</span></div>
        </div>
        {project.classes.map((c) => (
          <ClassCard key={c.name} info={c} bad={bad} selected={c.name === cls} onSelect={() => choose(c.name)}
            onDrop={(files) => void uploads.send(c.name, files)} onError={setError} />
        ))}
      </div>
      <Uploader cls={cls} status={uploads.status} onFiles={onFiles} webcam={webcam} onWebcam={setWebcam} />
      {webcam && cls ? <Webcam cls={cls} onFrames={onFiles} /> : null}
      <SelectionBar ids={selectedIds} classes={names} onDone={() => setSelected(new Set())} onError={setError} />
      <ImageGrid cls={cls} version={version} selected={selected} bad={bad} onSelect={onSelect} />
      <BadFiles bad={project.bad} />
    </div>
  );
}
