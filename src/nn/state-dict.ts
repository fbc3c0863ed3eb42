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
