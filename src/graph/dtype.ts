/** Element types of graph values: float32 for everything computed, int64 for labels, shapes and counters. */
export type DType = 'float32' | 'int64';
export type TensorData = Float32Array | BigInt64Array;
