import { invalidType } from '../../errors/index.ts';
import { toSnake } from '../state-keys.ts';

/**
 * A scheduler's state dict: its fields under PyTorch's snake_case names (`last_epoch`,
 * `base_lrs`, ...), deep-copied so later steps don't change a saved dict.
 */
export function captureState(owner: object, fields: Record<string, string>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, prop] of Object.entries(fields)) out[key] = structuredClone((owner as Record<string, unknown>)[prop]);
  return out;
}

/** Restores fields saved by `captureState`, after checking every key is present with the right kind of value. */
export function restoreState(owner: object, fields: Record<string, string>, sd: Record<string, unknown>, what: string): void {
  if (sd === null || typeof sd !== 'object') throw invalidType(`the state dict of ${what}`, 'an object', sd);
  const target = owner as Record<string, unknown>;
  for (const [key, prop] of Object.entries(fields)) {
    if (!(key in sd)) throw new RangeError(`The state dict of ${what} has no "${key}"`);
    const kind = kindOf(target[prop]);
    if (kindOf(sd[key]) !== kind) {
      throw invalidType(`"${key}" in the state dict of ${what}`, kind, sd[key]);
    }
  }
  const known = new Set(Object.keys(fields));
  for (const key of Object.keys(sd)) {
    if (!known.has(key)) throw new RangeError(`The state dict of ${what} has the key "${key}", which it does not keep (it keeps: ${[...known].join(', ')})`);
  }
  for (const [key, prop] of Object.entries(fields)) target[prop] = structuredClone(sd[key]);
}

function kindOf(v: unknown): string {
  if (Array.isArray(v)) return 'an array';
  if (v === null) return 'null';
  return `a ${typeof v}`;
}

/** Field name -> state-dict key, for fields that keep PyTorch's name. */
export function snakeFields(...props: string[]): Record<string, string> {
  return Object.fromEntries(props.map((p) => [toSnake(p), p]));
}
