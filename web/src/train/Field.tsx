import type { ComponentChildren } from 'preact';

interface NumberProps {
  label: string;
  name: string;
  value: number;
  onChange: (v: number) => void;
  step?: string;
  min?: number;
  max?: number;
  hint?: string;
}

/** A number setting; what cannot be read as a number is left as it was. */
export function NumberField({ label, name, value, onChange, step = 'any', min, max, hint }: NumberProps) {
  return (
    <label class="field" title={hint}>
      <span>{label}</span>
      <input type="number" name={name} data-testid={`setting-${name}`} value={value} step={step} min={min} max={max}
        onInput={(e) => { const v = (e.target as HTMLInputElement).valueAsNumber; if (Number.isFinite(v)) onChange(v); }} />
    </label>
  );
}

interface ChoiceProps<T extends string> {
  label: string;
  name: string;
  value: T;
  choices: readonly T[] | readonly [T, string][];
  onChange: (v: T) => void;
  hint?: string;
}

export function ChoiceField<T extends string>({ label, name, value, choices, onChange, hint }: ChoiceProps<T>) {
  return (
    <label class="field" title={hint}>
      <span>{label}</span>
      <select name={name} data-testid={`setting-${name}`} value={value} onChange={(e) => onChange((e.target as HTMLSelectElement).value as T)}>
        {choices.map((c) => {
          const [v, text] = Array.isArray(c) ? c : [c, c];
          return <option key={v} value={v}>{text}</option>;
        })}
      </select>
    </label>
  );
}

export function CheckField({ label, name, value, onChange, hint }: { label: string; name: string; value: boolean; onChange: (v: boolean) => void; hint?: string }) {
  return (
    <label class="field check" title={hint}>
      <input type="checkbox" name={name} data-testid={`setting-${name}`} checked={value} onChange={(e) => onChange((e.target as HTMLInputElement).checked)} />
      <span>{label}</span>
    </label>
  );
}

export function FieldRow({ children }: { children: ComponentChildren }) {
  return <div class="field-row">{children}</div>;
}
