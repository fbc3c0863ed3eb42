export * from './elementwise.ts';
export * from './conv.ts';
export * from './batchnorm.ts';
export * from './pool.ts';
export * from './shape.ts';
export * from './linalg.ts';
export * from './reduce.ts';
export * from './onnx-subgraph.ts';
