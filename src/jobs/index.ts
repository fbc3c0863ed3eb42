/**
 * The jobs, as library calls: config in, events out, an AbortSignal, a result. The CLI only
 * parses arguments and formats what these return; servers call them the same way.
 */
export { train, type TrainOptions, type TrainJobResult } from './train.ts';
export { predict, topK, type PredictInput, type PredictOptions, type PredictEvent, type Prediction, type TopK } from './predict.ts';
export { evaluate, evaluationRoot, type EvaluateOptions, type EvaluateEvent, type EvaluateResult } from './evaluate.ts';
export { exportModel, EXPORT_FORMATS, type ExportFormat, type ExportOptions, type ExportResult } from './export.ts';
export { loadModel, type LoadedModel, type LoadModelOptions } from './load-model.ts';
export { createPredictor, type Predictor } from './predictor.ts';
export { parseModelSpec, formatModelSpec, MODEL_SPEC_FORMS, type ModelSpec } from '../models/model-spec.ts';
export { AbortError } from '../train/abort.ts';
export { TrainingDivergedError } from '../train/diverged.ts';
export type { TrainEvent, TrainResult } from '../train/fit.ts';
export type { TrainConfig } from '../train/config.ts';
export type { RunSummary } from './train-summary.ts';
export type { TestEvaluation } from './test-split.ts';
export { embedFeatures, type EmbedJobOptions, type EmbedJobResult } from './embed.ts';
export { trainOnFeatures } from './train-features.ts';
export { predictBatch, batchInputs, type PredictBatchOptions, type PredictBatchResult } from './predict-batch.ts';
export { parseShardSelector, type ShardSelector } from './shards/shard-plan.ts';
export { inProcessQueue, type ShardQueue, type ShardOutcome, type ShardProgress } from './shards/shard-queue.ts';
export { checkShardTask, type ShardTask } from './shards/shard-task.ts';
export { runShard } from './shards/run-shard.ts';
export { ShardModels } from './shards/shard-models.ts';
export type { ShardEvent, ShardJobSummary } from './shards/run-shards.ts';
export { readFeaturesFolder, FEATURES_MANIFEST, type FeaturesManifest } from './shards/features-manifest.ts';
