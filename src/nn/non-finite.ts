import type { StateDict } from './state-dict.ts';

/** The first floating-point entry that is NaN or infinite, by key; null when every value is finite. */
export function findNonFinite(sd: StateDict): { key: string; index: number; value: number } | null {
  for (const [key, t] of sd) {
    if (t.dtype !== 'float32') continue;
    const data = t.data;
    for (let i = 0; i < data.length; i++) {
      // NaN and ±Infinity are the only floats for which x - x is not 0.
      if (data[i] - data[i] !== 0) return { key, index: i, value: data[i] };
    }
  }
  return null;
}
