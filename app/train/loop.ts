import * as tf from '@tensorflow/tfjs';
import type { ModelSpec } from '../common/efficientnet/index.ts';
import type { TrainConfig } from '../common/train-config.ts';
import { MISCLASSIFIED_PER_CELL, type EpochMetrics, type TrainEvent } from '../common/train-types.ts';
import type { SavedSplit } from '../dataset/split.ts';
import type { Provenance } from '../model/model-format.ts';
import { onBackend, type Backends } from './backends.ts';
import { checkpointPath, copyCheckpoint, writeCheckpoint, type TrainerState, type WrittenCheckpoint } from './checkpoint.ts';
import { evaluateBatches, type EvalForward } from './evaluation.ts';
import type { LossSettings } from './losses.ts';
import type { Optimizer, TrainableWeight } from './optimizer.ts';
import { finishEpoch, type Monitor } from './run-state.ts';
import { learningRateAt, type ScheduleSettings } from './schedule.ts';
import { seedDropout } from './seeding.ts';
import type { BatchSource } from './sources.ts';
import { splitBatch } from './micro-batch.ts';
import { GradientAccumulator, type TrainForward } from './step.ts';

export interface LoopContext {
  readonly config: TrainConfig;
  readonly model: tf.LayersModel;
  readonly spec: ModelSpec;
  readonly labels: readonly string[];
  readonly provenance: Provenance;
  readonly split: SavedSplit;
  readonly weights: readonly TrainableWeight[];
  readonly optimizer: Optimizer;
  readonly loss: LossSettings;
  readonly source: BatchSource;
  readonly stepsPerEpoch: number;
  readonly schedule: ScheduleSettings;
  readonly monitor: Monitor;
  readonly runDir: string;
  readonly backends: Backends;
  readonly trainForward: TrainForward;
  readonly evalForward: EvalForward;
  readonly emit: (event: TrainEvent) => void;
  readonly signal?: AbortSignal;
  readonly pauseGate?: () => Promise<void>;
  /** From random weights: sets BatchNorm's momentum before each training forward pass (batch-norm-warmup.ts). */
  readonly batchNormUpdate?: (update: number) => void;
}

export interface LoopOutcome {
  readonly state: TrainerState;
  readonly cancelled: boolean;
  readonly lastCheckpoint: WrittenCheckpoint | null;
  readonly bestCheckpoint: WrittenCheckpoint | null;
}

/** Smoothed seconds per step and per validation, for images/s and the ETA. */
class Pace {
  stepSeconds: number | null = null;
  validationSeconds: number | null = null;
  imagesPerSecond: number | null = null;

  step(seconds: number, images: number): void {
    this.stepSeconds = this.stepSeconds === null ? seconds : 0.8 * this.stepSeconds + 0.2 * seconds;
    const rate = images / Math.max(seconds, 1e-6);
    this.imagesPerSecond = this.imagesPerSecond === null ? rate : 0.8 * this.imagesPerSecond + 0.2 * rate;
  }

  eta(stepsLeft: number, validationsLeft: number): number | null {
    if (this.stepSeconds === null) return null;
    return stepsLeft * this.stepSeconds + validationsLeft * (this.validationSeconds ?? 0);
  }
}

/**
 * Epochs of optimizer steps from `state` on, with validation, checkpoints and events. Pause and
 * cancel are honoured between optimizer steps: a cancelled run writes the last checkpoint with the
 * exact position (epoch, steps done, the epoch's running sums) and returns.
 */
export async function runLoop(context: LoopContext, initial: TrainerState): Promise<LoopOutcome> {
  const { config, source, stepsPerEpoch, emit } = context;
  const accumulation = config.accumulationSteps;
  const microBatch = context.backends.microBatch;
  const partsPerBatch = microBatch ? Math.ceil(config.batchSize / microBatch) : 1;
  const accumulator = new GradientAccumulator(context.weights, context.loss);
  const pace = new Pace();
  const totalSteps = stepsPerEpoch * config.epochs;
  let state = initial;
  let lastCheckpoint: WrittenCheckpoint | null = null;
  let bestCheckpoint: WrittenCheckpoint | null = null;
  let learningRate = learningRateAt(state.epoch * stepsPerEpoch + state.stepInEpoch, context.schedule);

  /** Writes checkpoints/last (and best); `epochEnd`: written after an epoch's validation, else mid-epoch. */
  const saveLast = async (epochEnd: boolean, best: boolean) => {
    const optimizer = await context.optimizer.getState(context.weights);
    const content = {
      model: context.model,
      spec: context.spec,
      labels: context.labels,
      provenance: context.provenance,
      optimizer,
      split: context.split,
      state,
    };
    lastCheckpoint = await writeCheckpoint(checkpointPath(context.runDir, 'last'), content);
    const position = epochEnd ? { epoch: state.epoch, step: stepsPerEpoch } : { epoch: state.epoch + 1, step: state.stepInEpoch };
    emit({ type: 'checkpoint', ...position, best: false, ...lastCheckpoint });
    if (best) {
      bestCheckpoint = await copyCheckpoint(lastCheckpoint.path, checkpointPath(context.runDir, 'best'));
      emit({ type: 'checkpoint', epoch: state.epoch, step: stepsPerEpoch, best: true, ...bestCheckpoint });
    }
  };

  try {
    while (state.epoch < config.epochs && !state.stoppedEarly) {
      const epoch = state.epoch;
      const epochStarted = performance.now();
      let partial = { ...state.partial };
      let pendingStep: number | null = null;
      let stepStarted = 0;
      let cancelled = false;

      const finishStep = () => {
        const step = pendingStep!;
        const globalStep = epoch * stepsPerEpoch + step;
        learningRate = learningRateAt(globalStep, context.schedule);
        const result = accumulator.apply(context.optimizer, learningRate);
        partial = {
          lossSum: partial.lossSum + result.lossSum,
          correct: partial.correct + result.correct,
          images: partial.images + result.images,
        };
        state = { ...state, stepInEpoch: step + 1, globalStep: globalStep + 1, learningRate, partial };
        const seconds = (performance.now() - stepStarted) / 1000;
        pace.step(seconds, result.images);
        const done = globalStep + 1;
        emit({
          type: 'progress',
          phase: 'train',
          epoch: epoch + 1,
          step: step + 1,
          steps: stepsPerEpoch,
          loss: result.loss,
          imagesPerSecond: pace.imagesPerSecond,
          etaSeconds: pace.eta(totalSteps - done, config.epochs - epoch),
          learningRate,
          globalStep: done,
        });
        pendingStep = null;
      };

      for await (const batch of source.train(epoch, state.stepInEpoch * accumulation)) {
        const step = Math.floor(batch.index / accumulation);
        if (pendingStep !== null && step !== pendingStep) finishStep();
        if (pendingStep === null) {
          await context.pauseGate?.();
          if (context.signal?.aborted) {
            cancelled = true;
            break;
          }
          pendingStep = step;
          stepStarted = performance.now();
        }
        // On wasm a batch too big for the heap goes through in micro-batches (micro-batch.ts), each
        // with its own dropout seed; unsplit batches keep the seeds they always had.
        const parts = microBatch ? splitBatch(batch, microBatch) : [batch];
        for (const [part, piece] of parts.entries()) {
          const micro = (batch.index % accumulation) * partsPerBatch + part;
          const restore = seedDropout(context.model, initial.seed, epoch * stepsPerEpoch + step, micro);
          // Counted from the run's start, so a resumed run continues the same average.
          context.batchNormUpdate?.((epoch * stepsPerEpoch + step) * accumulation * partsPerBatch + micro);
          try {
            const x = tf.tensor(piece.data, [...piece.shape]);
            const labels = tf.tensor1d(piece.labels, 'int32');
            try {
              accumulator.add(context.trainForward, x, labels);
            } finally {
              tf.dispose([x, labels]);
            }
          } finally {
            restore();
          }
        }
      }
      if (pendingStep !== null) finishStep();
      if (cancelled || context.signal?.aborted) {
        await saveLast(false, false);
        return { state, cancelled: true, lastCheckpoint, bestCheckpoint };
      }

      const validationStarted = performance.now();
      const validation = await onBackend(context.backends.forward, context.backends.train, () =>
        evaluateBatches(source.validation(), context.evalForward, context.labels, context.loss, {
          signal: context.signal,
          // Recorded with each epoch so the confusion matrix's cells can open their images.
          collectMisclassified: true,
          misclassifiedPerCell: MISCLASSIFIED_PER_CELL,
          onBatch: (images) =>
            emit({
              type: 'progress',
              phase: 'validate',
              epoch: epoch + 1,
              step: images,
              steps: source.validationImages,
              loss: null,
              imagesPerSecond: null,
              etaSeconds: null,
              learningRate: null,
            }),
        }),
      );
      if (!validation && context.signal?.aborted) {
        // Cancelled while validating: every step of the epoch is done, so a resume only validates.
        await saveLast(false, false);
        return { state, cancelled: true, lastCheckpoint, bestCheckpoint };
      }
      pace.validationSeconds = (performance.now() - validationStarted) / 1000;
      const metrics: Record<string, number> = {
        loss: partial.lossSum / Math.max(1, partial.images),
        accuracy: partial.correct / Math.max(1, partial.images),
        learning_rate: learningRate,
      };
      if (validation && validation.metrics.images > 0) {
        const v = validation.metrics;
        Object.assign(metrics, {
          val_loss: v.loss,
          val_accuracy: v.accuracy,
          [`val_top${v.topK}_accuracy`]: v.topKAccuracy,
          val_macro_f1: v.macroF1,
        });
      }
      metrics.epoch_seconds = (performance.now() - epochStarted) / 1000;
      const finished = finishEpoch(state, metrics as EpochMetrics, context.monitor);
      state = finished.state;
      emit({
        type: 'epoch',
        epoch: state.epoch,
        epochs: config.epochs,
        metrics,
        best: finished.best,
        ...(validation && validation.metrics.images > 0
          ? {
              perClass: validation.metrics.perClass,
              confusion: validation.metrics.confusion,
              misclassified: validation.misclassified ?? [],
            }
          : {}),
      });
      await saveLast(true, finished.best);
      if (state.stoppedEarly) {
        emit({
          type: 'log',
          level: 'info',
          message: `Early stopping after epoch ${state.epoch}: ${context.monitor.metric} did not improve for ${state.earlyStopping.wait} epochs.`,
        });
      }
    }
  } finally {
    accumulator.reset();
  }
  return { state, cancelled: false, lastCheckpoint, bestCheckpoint };
}
