/**
 * graft: transfer learning for TypeScript. The names follow PyTorch's: `nn`, `F` (functional),
 * `models` (torchvision.models), `tensor`; `jobs` holds what the graft command runs (train,
 * predict, evaluate, export, loadModel) as library calls.
 */
import './nn/tensor-api.ts';
export { Tensor, tensor, constant, scalar, labels } from './graph/tensor.ts';
export { ShapeError } from './graph/errors.ts';
export * as nn from './nn/index.ts';
export * as F from './nn/functional.ts';
export * as models from './models/index.ts';
export * as optim from './optim/index.ts';
export { fit, type TrainResult, type TrainEvent, type FitOptions } from './train/fit.ts';
export type { TrainConfig } from './train/config.ts';
export { saveModelFolder, loadModelFolder } from './artifacts/model-folder.ts';
export * as jobs from './jobs/index.ts';
export * as data from './data/index.ts';
export { DataLoader, type Batch, type Batch as TensorBatch } from './data/loader.ts';
export { manualSeed, withSeed } from './data/generators.ts';
export { Runtime, currentRuntime, setRuntimeOptions, runtimeOptions, releaseSessions, type RuntimeOptions, type ExecutionProvider } from './runtime/index.ts';
export { specOf, type StateDict, type HostTensor, type StateDictSpec, type TensorSpec } from './nn/state-dict.ts';
export { readWeightsFile, type ReadWeightsOptions } from './formats/weights-file.ts';
