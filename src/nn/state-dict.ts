/**
 * A tensor held in host memory, as checkpoint readers return it and `Module.loadStateDict` takes it.
 * Readers widen every floating type (float16, bfloat16, float64) to float32 and every integer or
 * bool type to int64, and keep the stored type in `sourceDtype` so writers can round-trip it.
 */
export type SourceDType =
  | 'float32' | 'float64' | 'float16' | 'bfloat16'
  | 'int64' | 'int32' | 'int16' | 'int8' | 'uint8' | 'bool';

export type HostTensor =
  | { dtype: 'float32'; shape: number[]; data: Float32Array; sourceDtype?: SourceDType }
  | { dtype: 'int64'; shape: number[]; data: BigInt64Array; sourceDtype?: SourceDType };

/** Keys in the checkpoint's own order, as PyTorch's OrderedDict keeps them. */
export type StateDict = Map<string, HostTensor>;

/** A tensor's type and shape without its values: what a checkpoint is checked against before it is read. */
export interface TensorSpec {
  dtype: 'float32' | 'int64';
  shape: readonly number[];
}

/** A model's state dict as keys, types and shapes, in its order. */
export type StateDictSpec = ReadonlyMap<string, TensorSpec>;

export function specOf(sd: StateDict): Map<string, TensorSpec> {
  return new Map([...sd].map(([key, t]) => [key, { dtype: t.dtype, shape: t.shape }]));
}

export interface LoadReport {
  missingKeys: string[];
  unexpectedKeys: string[];
  /** Keys present on both sides with different shapes; never loaded. */
  shapeMismatches: { key: string; expected: number[]; received: number[] }[];
  /** Keys present on both sides with the same shape but int64 on one side and float32 on the other; never loaded. */
  dtypeMismatches: { key: string; expected: 'float32' | 'int64'; received: 'float32' | 'int64' }[];
}

/** What loading `received` into a model with `expected` would miss, add or refuse, key by key. */
export function compareStateDicts(expected: StateDictSpec, received: StateDictSpec): LoadReport {
  const report: LoadReport = { missingKeys: [], unexpectedKeys: [], shapeMismatches: [], dtypeMismatches: [] };
  for (const [key, t] of expected) {
    const v = received.get(key);
    if (!v) report.missingKeys.push(key);
    else if (v.shape.length !== t.shape.length || v.shape.some((d, i) => d !== t.shape[i])) {
      report.shapeMismatches.push({ key, expected: [...t.shape], received: [...v.shape] });
    } else if (v.dtype !== t.dtype) {
      report.dtypeMismatches.push({ key, expected: t.dtype, received: v.dtype });
    }
  }
  for (const key of received.keys()) if (!expected.has(key)) report.unexpectedKeys.push(key);
  return report;
}

export function isCleanLoad(report: LoadReport): boolean {
  return !report.missingKeys.length && !report.unexpectedKeys.length && !report.shapeMismatches.length && !report.dtypeMismatches.length;
}
