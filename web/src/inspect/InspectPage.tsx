import type { JSX } from 'preact';
import { useState } from 'preact/hooks';
import type { ImagePrediction, Inspection, Project } from '../../../src/ui/api.ts';
import { api } from '../api.ts';
import { currentIds, recordMoves } from '../edits.ts';
import { percent } from '../format.ts';
import { RunPicker, type Picker } from '../RunPicker.tsx';
import { ClassScores } from './ClassScores.tsx';
import { ConfusionMatrix } from './ConfusionMatrix.tsx';
import { ReviewImage } from './ReviewImage.tsx';
import { useInspection } from './useInspection.ts';

/** The class an image id is in now: its folder below data/ (below data/<split>/ in the splits layout). */
const classOf = (id: string, layout: Project['layout']) => id.split('/')[layout === 'splits' ? 1 : 0];

const SHOWN = 60;

/** The Inspect page: how the run does per class, where it errs, and the images worth a second look. */
export function InspectPage({ picker, project }: { picker: Picker; project: Project }) {
  const run = picker.selected;
  const state = useInspection(run?.id ?? null);
  const [cell, setCell] = useState<[number, number] | null>(null);
  const [edits, setEdits] = useState(currentIds);
  const [error, setError] = useState<string | null>(null);
  const classes = project.classes.map((c) => c.name);

  const now = (id: string) => (id in edits ? edits[id] : id);
  const relabel = async (id: string, cls: string) => {
    try {
      const { moved } = await api.move({ ids: [id], class: cls });
      recordMoves([id], [moved[0].id]);
    } catch (e) {
      setError((e as Error).message);
    }
    setEdits(currentIds());
  };
  const remove = async (id: string) => {
    try {
      await api.deleteImages([id]);
      recordMoves([id], [null]);
    } catch (e) {
      setError((e as Error).message);
    }
    setEdits(currentIds());
  };

  /** An image of the inspection as it is now, with relabel and delete, or a note that it was moved or deleted. */
  const reviewed = (original: string, caption: string, suggest: string | null, testid: string) => {
    const id = now(original);
    if (id === null) return <ReviewImage key={original} id={original} gone testid={testid}>{caption}</ReviewImage>;
    const moved = id !== original;
    const cls = classOf(id, project.layout);
    return (
      <ReviewImage key={original} id={id} testid={testid} actions={(
        <>
          {moved ? <em data-testid="moved-note">now in {cls}</em> : null}
          {suggest && suggest !== cls && classes.includes(suggest)
            ? <button type="button" onClick={() => void relabel(id, suggest)} data-testid="relabel">Relabel as {suggest}</button> : null}
          <button type="button" class="link danger" onClick={() => void remove(id)} data-testid="delete-image">Delete</button>
        </>
      )}>{caption}</ReviewImage>
    );
  };
  const predictionCaption = (p: ImagePrediction) => `${p.actual} → ${p.predicted} (${percent(p.prob)})`;

  return (
    <div class="inspect-page">
      <header class="page-head"><h2>Inspect</h2><RunPicker picker={picker} /></header>
      {error ? <p class="error">{error}</p> : null}
      {!run ? null : state.status === 'loading' ? <p class="muted" data-testid="inspect-loading">Scoring the validation images and comparing every image's features…</p>
        : state.status === 'error' ? <p class="error" data-testid="inspect-error">{state.message}</p>
        : <Sections x={state.inspection} cell={cell} setCell={setCell} reviewed={reviewed} caption={predictionCaption} />}
    </div>
  );
}

interface SectionsProps {
  x: Inspection;
  cell: [number, number] | null;
  setCell: (c: [number, number]) => void;
  reviewed: (id: string, caption: string, suggest: string | null, testid: string) => JSX.Element;
  caption: (p: ImagePrediction) => string;
}

function Sections({ x, cell, setCell, reviewed, caption }: SectionsProps) {
  const inCell = cell ? x.predictions.filter((p) => p.actual === x.classes[cell[0]] && p.predicted === x.classes[cell[1]]) : [];
  return (
    <>
      <section>
        <h3>Per class</h3>
        <ClassScores scores={x.perClass} />
      </section>
      <section>
        <h3>Confusion matrix <small class="muted">validation images; click a cell to see them</small></h3>
        <ConfusionMatrix classes={x.classes} confusion={x.confusion} selected={cell} onSelect={setCell} />
        {cell ? (
          <div class="review-list" data-testid="cell-images">
            <h4>{x.classes[cell[0]]} predicted as {x.classes[cell[1]]} ({inCell.length})</h4>
            {inCell.slice(0, SHOWN).map((p) => reviewed(p.id, caption(p), p.actual !== p.predicted ? p.predicted : null, 'cell-image'))}
          </div>
        ) : null}
      </section>
      <section>
        <h3>Most confidently wrong ({x.confidentlyWrong.length})</h3>
        <div class="review-list" data-testid="confidently-wrong">
          {x.confidentlyWrong.length === 0 ? <p class="muted">None: every validation image is right.</p> : null}
          {x.confidentlyWrong.slice(0, SHOWN).map((p) => reviewed(p.id, caption(p), p.predicted, 'wrong-image'))}
        </div>
      </section>
      <section>
        <h3>Likely mislabeled ({x.likelyMislabeled.length}) <small class="muted">most of their nearest neighbours in the backbone's features carry another label</small></h3>
        <div class="review-list" data-testid="likely-mislabeled">
          {x.likelyMislabeled.length === 0 ? <p class="muted">None found.</p> : null}
          {x.likelyMislabeled.slice(0, SHOWN).map((m) => reviewed(m.id, `${m.label}, looks like ${m.suggested} (${percent(m.agreement, 0)} of neighbours)`, m.suggested, 'mislabeled-image'))}
        </div>
      </section>
      <section>
        <h3>Near-duplicates across classes ({x.nearDuplicates.length})</h3>
        <div class="pairs" data-testid="near-duplicates">
          {x.nearDuplicates.length === 0 ? <p class="muted">None found.</p> : null}
          {x.nearDuplicates.slice(0, SHOWN).map((d) => (
            <div class="pair" key={`${d.a}|${d.b}`}>
              {reviewed(d.a, d.a, null, 'duplicate-image')}
              {reviewed(d.b, `${d.b} · similarity ${d.similarity.toFixed(3)}`, null, 'duplicate-image')}
            </div>
          ))}
        </div>
      </section>
    </>
  );
}
