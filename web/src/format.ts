/** How numbers read on the pages. */
export const percent = (x: number | null | undefined, digits = 1) => (x === null || x === undefined ? '–' : `${(x * 100).toFixed(digits)}%`);

export function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MB`;
  return `${(n / 1024 ** 3).toFixed(2)} GB`;
}

export function duration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '–';
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

export function count(n: number | null | undefined, unit: string, plural = `${unit}s`): string {
  if (n === null || n === undefined) return '–';
  return `${n.toLocaleString('en-US')} ${n === 1 ? unit : plural}`;
}

export const millions = (n: number | null) => (n === null ? '–' : `${(n / 1e6).toFixed(1)} M`);

/** The last path component of a model spec: an imported file's name, not its folder. */
export const modelName = (spec: string) => spec.replace(/^(onnx|tfjs):/, '').split(/[\\/]/).pop() ?? spec;
