import { useState } from 'preact/hooks';
import { api } from '../api.ts';
import { recordMoves } from '../edits.ts';

interface Props {
  ids: string[];
  classes: string[];
  onDone: () => void;
  onError: (message: string) => void;
}

/** What can be done with the selected images: move them to another class (relabel) or delete them. */
export function SelectionBar({ ids, classes, onDone, onError }: Props) {
  const [target, setTarget] = useState('');
  const [confirming, setConfirming] = useState(false);
  if (ids.length === 0) return null;
  const move = async () => {
    if (!target) return;
    try {
      const { moved } = await api.move({ ids, class: target });
      recordMoves(ids, moved.map((m) => m.id));
      onDone();
    } catch (e) {
      onError((e as Error).message);
    }
  };
  const remove = async () => {
    try {
      await api.deleteImages(ids);
      recordMoves(ids, ids.map(() => null));
      onDone();
    } catch (e) {
      onError((e as Error).message);
    }
    setConfirming(false);
  };
  return (
    <div class="selection-bar" data-testid="selection-bar">
      <strong data-testid="selected-count">{ids.length} selected</strong>
      <select value={target} onChange={(e) => setTarget((e.target as HTMLSelectElement).value)} data-testid="move-target">
        <option value="">Move to…</option>
        {classes.map((c) => <option key={c} value={c}>{c}</option>)}
      </select>
      <button type="button" disabled={!target} onClick={move} data-testid="move-selected">Move</button>
      {confirming ? (
        <>
          <button type="button" class="danger" onClick={remove} data-testid="delete-selected-confirm">Delete {ids.length}</button>
          <button type="button" onClick={() => setConfirming(false)}>Keep</button>
        </>
      ) : <button type="button" onClick={() => setConfirming(true)} data-testid="delete-selected">Delete</button>}
      <button type="button" class="link" onClick={onDone}>Clear selection</button>
    </div>
  );
}
