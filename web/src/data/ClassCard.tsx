import { useState } from 'preact/hooks';
import type { ClassInfo } from '../../../src/ui/api.ts';
import { api } from '../api.ts';
import { thumbUrl } from '../api.ts';
import { count } from '../format.ts';
import { droppedFiles, type NamedFile } from './files.ts';

interface Props {
  info: ClassInfo;
  /** Ids of files that cannot be used: no thumbnail is asked for them. */
  bad: Map<string, string>;
  selected: boolean;
  onSelect: () => void;
  onDrop: (files: NamedFile[]) => void;
  onError: (message: string) => void;
}

/** A class: its count and sample thumbnails; click to show its images, drop files onto it to add them. */
export function ClassCard({ info, bad, selected, onSelect, onDrop, onError }: Props) {
  const [editing, setEditing] = useState<'rename' | 'delete' | null>(null);
  const [name, setName] = useState(info.name);
  const [over, setOver] = useState(false);

  const rename = async (e: Event) => {
    e.preventDefault();
    if (name.trim() && name.trim() !== info.name) await api.renameClass(info.name, name.trim()).catch((x: Error) => onError(x.message));
    setEditing(null);
  };
  const remove = async () => {
    await api.deleteClass(info.name).catch((x: Error) => onError(x.message));
    setEditing(null);
  };

  return (
    <div
      class={`card class-card${selected ? ' selected' : ''}${over ? ' over' : ''}`} data-testid={`class-${info.name}`} data-count={info.count}
      onClick={onSelect}
      onDragOver={(e) => { e.preventDefault(); setOver(true); }}
      onDragLeave={() => setOver(false)}
      onDrop={async (e) => {
        e.preventDefault();
        e.stopPropagation();
        setOver(false);
        if (e.dataTransfer) onDrop(await droppedFiles(e.dataTransfer));
      }}
    >
      <div class="samples">
        {info.samples.filter((id) => !bad.has(id)).map((id) => <img key={id} src={thumbUrl(id)} alt="" loading="lazy" />)}
        {info.samples.length === 0 ? <span class="muted">drop images here</span> : null}
      </div>
      {editing === 'rename' ? (
        <form onSubmit={rename} onClick={(e) => e.stopPropagation()}>
          <input value={name} onInput={(e) => setName((e.target as HTMLInputElement).value)} data-testid="rename-input" autoFocus />
          <button type="submit" data-testid="rename-save">Save</button>
          <button type="button" onClick={() => setEditing(null)}>Cancel</button>
        </form>
      ) : (
        <div class="card-title">
          <strong>{info.name}</strong> <span class="muted" data-testid="class-count">{count(info.count, 'image')}</span>
        </div>
      )}
      {editing === 'rename' ? null : (
        <div class="card-actions" onClick={(e) => e.stopPropagation()}>
          {editing === 'delete' ? (
            <>
              <span>Delete {info.name} and its {count(info.count, 'image')}?</span>
              <button type="button" class="danger" onClick={remove} data-testid="delete-class-confirm">Delete</button>
              <button type="button" onClick={() => setEditing(null)}>Keep</button>
            </>
          ) : (
            <>
              <button type="button" class="link" onClick={() => { setName(info.name); setEditing('rename'); }} data-testid="rename-class">Rename</button>
              <button type="button" class="link" onClick={() => setEditing('delete')} data-testid="delete-class">Delete</button>
            </>
          )}
        </div>
      )}
    </div>
  );
}
