import { useState } from 'preact/hooks';
import type { BackboneChoice, StartRun } from '../../../src/ui/api.ts';
import { BackboneSelect } from './BackboneSelect.tsx';
import { FORM_DEFAULTS, type FormSettings } from './defaults.ts';
import { CheckField, ChoiceField, FieldRow, NumberField } from './Field.tsx';

const KEY = 'graft-ui:train-settings';

interface Saved { model: string | null; settings: FormSettings }

function saved(): Saved {
  try {
    const s = JSON.parse(localStorage.getItem(KEY) ?? 'null') as Saved | null;
    if (s) return { model: s.model, settings: { ...FORM_DEFAULTS, ...s.settings } };
  } catch {
    // A broken saved form starts again from the defaults.
  }
  return { model: null, settings: FORM_DEFAULTS };
}

interface Props {
  models: BackboneChoice[];
  running: boolean;
  canTrain: string | null;
  onStart: (request: StartRun) => Promise<void>;
  onStop: () => Promise<void>;
}

/** The run's settings (kept across reloads), the common ones first, the rest under Advanced. */
export function TrainForm({ models, running, canTrain, onStart, onStop }: Props) {
  const [form, setForm] = useState<Saved>(saved);
  const [busy, setBusy] = useState(false);
  const fallback = models.find((m) => m.isDefault)?.spec ?? models[0]?.spec ?? '';
  const model = form.model !== null && models.some((m) => m.spec === form.model) ? form.model : fallback;
  const s = form.settings;
  const update = (next: Saved) => {
    setForm(next);
    localStorage.setItem(KEY, JSON.stringify(next));
  };
  const set = <K extends keyof FormSettings>(key: K) => (value: FormSettings[K]) => update({ ...form, settings: { ...s, [key]: value } });

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    try {
      await onStart({ config: { model, ...s } });
    } finally {
      setBusy(false);
    }
  };

  return (
    <form class="train-form card" onSubmit={submit} data-testid="train-form">
      <BackboneSelect models={models} value={model} onChange={(spec) => update({ ...form, model: spec })} />
      <FieldRow>
        <ChoiceField label="Mode" name="mode" value={s.mode} onChange={set('mode')}
          choices={[['frozen', 'frozen backbone (fast)'], ['two-stage', 'two-stage'], ['finetune', 'fine-tune everything']]}
          hint="frozen: only a new head trains, on cached features; two-stage: frozen epochs first, then everything; finetune: everything trains" />
        <NumberField label="Epochs" name="epochs" value={s.epochs} onChange={set('epochs')} step="1" min={1} />
        <NumberField label="Learning rate" name="lr" value={s.lr} onChange={set('lr')} min={0} />
        <NumberField label="Batch size" name="batchSize" value={s.batchSize} onChange={set('batchSize')} step="1" min={1} />
        <ChoiceField label="Augmentation" name="augment" value={s.augment} onChange={set('augment')} choices={['none', 'light', 'standard'] as const} />
      </FieldRow>
      <details>
        <summary>Advanced</summary>
        <FieldRow>
          <ChoiceField label="Optimizer" name="optimizer" value={s.optimizer} onChange={set('optimizer')} choices={['adamw', 'adam', 'sgd'] as const} />
          <NumberField label="Momentum" name="momentum" value={s.momentum} onChange={set('momentum')} min={0} max={1} />
          <NumberField label="Weight decay" name="weightDecay" value={s.weightDecay} onChange={set('weightDecay')} min={0} />
          <ChoiceField label="Scheduler" name="scheduler" value={s.scheduler} onChange={set('scheduler')} choices={['cosine', 'onecycle', 'step', 'none'] as const} />
          <NumberField label="Step size (epochs)" name="stepSize" value={s.stepSize} onChange={set('stepSize')} step="1" min={1} />
          <NumberField label="Gamma" name="gamma" value={s.gamma} onChange={set('gamma')} min={0} max={1} />
        </FieldRow>
        <FieldRow>
          <NumberField label="Frozen epochs (two-stage)" name="frozenEpochs" value={s.frozenEpochs} onChange={set('frozenEpochs')} step="1" min={0} />
          <NumberField label="Unfreeze last blocks (frozen)" name="unfreeze" value={s.unfreeze} onChange={set('unfreeze')} step="1" min={0} />
          <NumberField label="Augmented views cached" name="views" value={s.views} onChange={set('views')} step="1" min={1} />
          <NumberField label="Validation share" name="valSplit" value={s.valSplit} onChange={set('valSplit')} min={0} max={0.9} hint="held out for validation when the data has no val/ folder" />
          <NumberField label="Label smoothing" name="labelSmoothing" value={s.labelSmoothing} onChange={set('labelSmoothing')} min={0} max={1} />
          <NumberField label="Patience (0: none)" name="patience" value={s.patience} onChange={set('patience')} step="1" min={0} />
          <NumberField label="Seed" name="seed" value={s.seed} onChange={set('seed')} step="1" min={0} />
        </FieldRow>
        <FieldRow>
          <CheckField label="Cache backbone features on disk" name="featureCache" value={s.featureCache} onChange={set('featureCache')} />
          <CheckField label="Stop at the first unreadable image" name="strict" value={s.strict} onChange={set('strict')} />
          <button type="button" class="link" onClick={() => update({ model: null, settings: FORM_DEFAULTS })} data-testid="reset-settings">Back to the defaults</button>
        </FieldRow>
      </details>
      <div class="form-actions">
        <button type="submit" class="primary" disabled={running || busy || canTrain !== null} data-testid="start-run">Start training</button>
        {running ? <button type="button" class="danger" onClick={() => void onStop()} data-testid="stop-run">Stop</button> : null}
        {canTrain ? <span class="muted">{canTrain}</span> : null}
      </div>
    </form>
  );
}
