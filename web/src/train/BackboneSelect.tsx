import type { BackboneChoice } from '../../../src/ui/api.ts';
import { millions } from '../format.ts';

function describe(m: BackboneChoice): string {
  const parts = [];
  if (m.params !== null) parts.push(`${millions(m.params)} params`);
  if (m.acc1 !== null) parts.push(`ImageNet top-1 ${m.acc1.toFixed(1)}%`);
  if (m.crop !== null) parts.push(`${m.crop}px`);
  if (m.needsDownload) parts.push('downloads its weights first');
  return parts.join(' · ');
}

/** The backbone to train on, with its size and ImageNet accuracy as `graft models` lists them. */
export function BackboneSelect({ models, value, onChange }: { models: BackboneChoice[]; value: string; onChange: (spec: string) => void }) {
  const chosen = models.find((m) => m.spec === value);
  return (
    <label class="field wide">
      <span>Backbone</span>
      <select data-testid="setting-model" value={value} onChange={(e) => onChange((e.target as HTMLSelectElement).value)}>
        {models.map((m) => (
          <option key={m.spec} value={m.spec}>{m.label}{m.params !== null ? ` — ${millions(m.params)}, ${m.acc1?.toFixed(1)}%` : ''}</option>
        ))}
      </select>
      {chosen ? <small class="muted" data-testid="model-figures">{describe(chosen) || 'no published figures (an imported or bundled backbone)'}</small> : null}
    </label>
  );
}
