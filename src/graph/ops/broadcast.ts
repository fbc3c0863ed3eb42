import { check } from '../errors.ts';

/** NumPy/PyTorch broadcasting of two shapes. */
export function broadcastShapes(a: readonly number[], b: readonly number[]): number[] {
  const n = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const da = a[a.length - n + i] ?? 1;
    const db = b[b.length - n + i] ?? 1;
    check(da === db || da === 1 || db === 1, () => `shapes [${a}] and [${b}] do not broadcast (dimension ${i}: ${da} vs ${db})`);
    out.push(da === 1 ? db : da);
  }
  return out;
}
