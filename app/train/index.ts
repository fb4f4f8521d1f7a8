// Training, evaluation and prediction for the worker processes (workers/train.ts) and the CLI.
export { train, FINAL_MODEL_FOLDER, type TrainHooks, type TrainOptions } from './train.ts';
export {
  evaluate,
  predictFiles,
  resolveModelDir,
  type EvaluateItem,
  type EvaluationReport,
  type ForwardOptions,
  type Prediction,
  type PredictOptions,
} from './evaluate.ts';
export { loadTrainingData, type LabeledItem, type TrainingData } from './data.ts';
export { readCheckpoint, checkpointPath, CHECKPOINTS_FOLDER, type TrainerState, type LoadedCheckpoint } from './checkpoint.ts';
export type { EvaluationMetrics } from './metrics.ts';
export type { MisclassifiedCell } from '../common/train-types.ts';
