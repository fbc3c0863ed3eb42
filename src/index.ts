/**
 * graft: transfer learning for TypeScript. The names follow PyTorch's: `nn`, `F` (functional),
 * `models` (torchvision.models), `tensor`.
 */
export { Tensor, tensor, constant, scalar, labels } from './graph/tensor.ts';
export { ShapeError } from './graph/errors.ts';
export * as nn from './nn/index.ts';
export * as F from './nn/functional.ts';
export * as models from './models/index.ts';
export * as optim from './optim/index.ts';
export { fit, type TrainResult, type TrainEvent, type FitOptions } from './train/fit.ts';
export type { TrainConfig } from './train/config.ts';
export { saveModelFolder, loadModelFolder } from './io/model-folder.ts';
export * as data from './data/index.ts';
export { DataLoader, type TensorBatch } from './train/loader.ts';
export { manualSeed } from './seed.ts';
export { setRuntimeOptions, runtimeOptions, type RuntimeOptions, type ExecutionProvider } from './runtime/options.ts';
export { releaseSessions } from './runtime/session.ts';
export type { StateDict, HostTensor } from './io/state-dict.ts';
export { readWeightsFile } from './io/weights-file.ts';
