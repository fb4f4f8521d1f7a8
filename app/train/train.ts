import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import { AppError } from '../common/errors.ts';
import {
  effectiveBatchNormMomentum,
  effectiveLearningRate,
  effectiveWeightDecay,
  parseTrainConfig,
  trainsFromScratch,
  type TrainConfig,
} from '../common/train-config.ts';
import type { TrainEvent, TrainSummary } from '../common/train-types.ts';
import { saveModel } from '../model/model-format.ts';
import { batchNormWarmup } from './batch-norm-warmup.ts';
import { chooseBackends, type Backends } from './backends.ts';
import { checkpointPath, copyCheckpoint, readCheckpoint, restoreWeights, type LoadedCheckpoint } from './checkpoint.ts';
import { classCounts, loadTrainingData, type TrainingData } from './data.ts';
import { applyFreezePlan, trainableWeights } from './freeze.ts';
import { headSource } from './head.ts';
import { runLoop } from './loop.ts';
import { resolveClassWeights, type LossSettings } from './losses.ts';
import { prepareModel } from './model-setup.ts';
import { Optimizer } from './optimizer.ts';
import { configDigest, initialState } from './run-state.ts';
import { warmupStepsFor } from './schedule.ts';
import { imageSource, type BatchSource } from './sources.ts';

export interface TrainHooks {
  onEvent(event: TrainEvent): void;
  /** Cancel: the run stops after the current optimizer step and writes a checkpoint to resume from. */
  readonly signal?: AbortSignal;
  /** Awaited before every optimizer step: resolve it to go on (a paused run waits here). */
  readonly pauseGate?: () => Promise<void>;
}

export interface TrainOptions {
  /** The run's folder: checkpoints/last, checkpoints/best and the final model/ go here. */
  readonly runDir: string;
  /** A checkpoint folder (or a run folder) to continue from, exactly where it stopped. */
  readonly resumeFrom?: string;
  /** Environment for the backend ladder (EFFNET_BACKEND), weights and cache folders; process.env by default. */
  readonly env?: NodeJS.ProcessEnv;
  /** Recorded in the saved models' provenance. */
  readonly runId?: string;
}

export const FINAL_MODEL_FOLDER = 'model';

/**
 * Trains a classifier as `config` says and returns what happened. Everything that can be reproduced
 * is seeded by one seed (initial weights, data order, augmentation, dropout); a run resumed from a
 * checkpoint continues the schedule, the optimizer state and the data order exactly.
 */
export async function train(input: unknown, hooks: TrainHooks, options: TrainOptions): Promise<TrainSummary> {
  const started = performance.now();
  const config = parseTrainConfig(input);
  const env = options.env ?? process.env;
  const runDir = path.resolve(options.runDir);
  const emit = (event: TrainEvent) => hooks.onEvent(event);
  await fs.mkdir(runDir, { recursive: true });

  const resume = options.resumeFrom ? await readCheckpoint(options.resumeFrom) : null;
  const seed = resume?.state.seed ?? config.seed ?? randomBytes(4).readUInt32LE(0);
  const backends = await chooseBackends(
    env,
    config.mode === 'head'
      ? undefined
      : {
          batchSize: config.batchSize,
          variant: config.model.variant,
          resolution: config.model.resolution,
          batchNormTrains: config.mode === 'full',
        },
  );
  if (backends.note) emit({ type: 'log', level: 'info', message: backends.note });
  const data = await loadTrainingData(config.dataset, { split: resume?.split, signal: hooks.signal });
  for (const warning of data.warnings) emit({ type: 'warning', ...warning });
  if (resume) checkResumable(resume, data, config, emit);

  if (config.mode !== 'full' && config.model.weights === 'none' && !config.model.initialModel) {
    emit({
      type: 'warning',
      code: 'frozen-random-backbone',
      message: `${config.mode} mode keeps most of a randomly initialised network frozen: its features carry little information.`,
      details: { hint: 'Use model.weights "imagenet", start from a trained model (model.initialModel), or train in full mode.' },
    });
  }
  const bnMomentum = effectiveBatchNormMomentum(config, data.train.length);
  const prepared = await prepareModel({ ...config, model: { ...config.model, bnMomentum } }, data.classes, seed, env);
  if (trainsFromScratch(config)) {
    emit({
      type: 'log',
      level: 'info',
      message:
        config.model.bnMomentum === undefined
          ? `From random weights: learning rate ${effectiveLearningRate(config)}, BatchNorm momentum ${bnMomentum} after a running average over the first steps.`
          : `From random weights: learning rate ${effectiveLearningRate(config)}, BatchNorm momentum ${bnMomentum}.`,
    });
  }
  for (const message of prepared.messages) emit({ type: 'log', level: 'info', message });
  const { model, spec } = prepared;
  let source: BatchSource | null = null;
  const optimizer = new Optimizer({ ...config.optimizer, weightDecay: effectiveWeightDecay(config.optimizer) });
  try {
    const plan = applyFreezePlan(model, config.mode, config.unfreezeBlocks);
    emit({
      type: 'log',
      level: 'debug',
      message: `Training ${plan.trainableLayers.length} layers; ${plan.inferenceBatchNorms.length} BatchNorm layers in inference mode.`,
    });
    const weights = trainableWeights(model);
    if (resume) {
      await restoreWeights(model, resume.modelDir);
      optimizer.setState(resume.optimizer, weights, resume.dir);
      await carryBestCheckpoint(resume, runDir);
    }
    const loss: LossSettings = {
      numClasses: data.classes.length,
      labelSmoothing: config.labelSmoothing,
      classWeights: resolveClassWeights(config.classWeights, data.classes, classCounts(data.train, data.classes)),
      probabilities: spec.classifierActivation === 'softmax',
    };
    const pipeline = {
      workers: config.data.workers,
      cacheBytes: config.data.cacheMegabytes * 1024 * 1024,
      onWarning: pipelineWarning(emit),
    };
    // Planned from the item count, as the pipeline plans batches: an unreadable image leaves a
    // batch smaller (or a step out), it does not renumber the steps after it.
    const stepsPerEpoch = Math.ceil(Math.ceil(data.train.length / config.batchSize) / config.accumulationSteps);
    const totalSteps = stepsPerEpoch * config.epochs;
    const state = resume
      ? { ...resume.state, totalEpochs: config.epochs }
      : initialState({
          seed,
          mode: config.mode,
          classes: data.classes,
          datasetFingerprint: data.fingerprint,
          configDigest: configDigest(config),
          totalEpochs: config.epochs,
          stepsPerEpoch,
        });
    if (resume && resume.state.stepsPerEpoch !== stepsPerEpoch) {
      throw new AppError(
        'resume-mismatch',
        `${resume.dir} was written with ${resume.state.stepsPerEpoch} steps per epoch; this config gives ${stepsPerEpoch}.`,
        {
          hint: 'Resume with the batch size and accumulation steps the run was started with.',
        },
      );
    }
    emit({
      type: 'started',
      backend: backends.train,
      device: backends.device,
      forwardBackend: backends.forward,
      mode: config.mode,
      totalEpochs: config.epochs,
      stepsPerEpoch,
      classes: data.classes,
      trainImages: data.train.length,
      validationImages: data.validation.length,
      seed,
      datasetFingerprint: data.fingerprint,
      ...(resume ? { resumedAt: { epoch: state.epoch + 1, step: state.stepInEpoch } } : {}),
    });

    source =
      config.mode === 'head'
        ? await headSource({ model, spec, data, prepared, config, seed, backends, env, pipeline, emit, signal: hooks.signal })
        : await imageSource({
            root: data.root,
            train: data.train,
            validation: data.validation,
            imageSize: spec.resolution,
            batchSize: config.batchSize,
            seed,
            augment: config.augment,
            pipeline,
          });
    if (!source) return summary(config, resume?.state ?? null, seed, data, backends, started, 'cancelled', null, null, null);

    const head = config.mode === 'head' ? headLayers(model) : null;
    const outcome = await runLoop(
      {
        config,
        model,
        spec,
        labels: data.classes,
        provenance: { ...(options.runId ? { runId: options.runId } : {}), datasetFingerprint: data.fingerprint, source: prepared.source },
        split: data.split,
        weights,
        optimizer,
        loss,
        source,
        stepsPerEpoch,
        schedule: {
          name: config.schedule.name,
          learningRate: effectiveLearningRate(config),
          minLearningRate: config.schedule.minLearningRate,
          warmupSteps: warmupStepsFor(config.schedule.warmupEpochs, stepsPerEpoch, totalSteps),
          totalSteps,
        },
        monitor: { metric: config.monitor, minDelta: config.earlyStopping.minDelta, patience: config.earlyStopping.patience },
        runDir,
        backends,
        trainForward: head ? head.train : (x) => model.apply(x, { training: true }) as tf.Tensor,
        evalForward: head ? head.evaluate : (x) => model.apply(x, { training: false }) as tf.Tensor,
        batchNormUpdate:
          trainsFromScratch(config) && config.model.bnMomentum === undefined && bnMomentum !== undefined
            ? batchNormWarmup(model, bnMomentum)
            : undefined,
        emit,
        signal: hooks.signal,
        pauseGate: hooks.pauseGate,
      },
      state,
    );
    const bestDir = checkpointPath(runDir, 'best');
    const last = outcome.lastCheckpoint?.path ?? null;
    const best = outcome.state.best ? bestDir : null;
    if (outcome.cancelled) return summary(config, outcome.state, seed, data, backends, started, 'cancelled', null, last, best);

    const lastEpoch = outcome.state.history.at(-1)?.epoch;
    if (config.earlyStopping.restoreBest && outcome.state.best && outcome.state.best.epoch !== lastEpoch) {
      await restoreWeights(model, path.join(bestDir, 'model'));
      emit({
        type: 'log',
        level: 'info',
        message: `Final model: the best epoch (${outcome.state.best.epoch}, ${outcome.state.best.metric} ${outcome.state.best.value.toFixed(4)}).`,
      });
    }
    const modelDir = path.join(runDir, FINAL_MODEL_FOLDER);
    await saveModel(model, modelDir, {
      spec,
      labels: data.classes,
      provenance: { ...(options.runId ? { runId: options.runId } : {}), datasetFingerprint: data.fingerprint, source: prepared.source },
    });
    return summary(
      config,
      outcome.state,
      seed,
      data,
      backends,
      started,
      outcome.state.stoppedEarly ? 'stopped-early' : 'completed',
      modelDir,
      last,
      best,
    );
  } finally {
    await source?.close();
    optimizer.dispose();
    model.dispose();
  }
}

/** The classifier on top of cached embeddings: `top_dropout` (when the model has one) then `predictions`. */
function headLayers(model: tf.LayersModel): { train: (x: tf.Tensor) => tf.Tensor; evaluate: (x: tf.Tensor) => tf.Tensor } {
  const predictions = model.getLayer('predictions');
  const dropout = model.layers.find((layer) => layer.name === 'top_dropout');
  return {
    train: (x) => predictions.apply(dropout ? (dropout.apply(x, { training: true }) as tf.Tensor) : x) as tf.Tensor,
    evaluate: (x) => predictions.apply(x) as tf.Tensor,
  };
}

function checkResumable(resume: LoadedCheckpoint, data: TrainingData, config: TrainConfig, emit: (event: TrainEvent) => void): void {
  if (resume.state.datasetFingerprint !== data.fingerprint) {
    throw new AppError(
      'resume-dataset-changed',
      `The dataset ${data.source} changed since ${resume.dir} was written (its fingerprint differs).`,
      {
        hint: 'A run can only continue on the data it started with; start a new run to train on the changed dataset.',
      },
    );
  }
  if (resume.state.mode !== config.mode) {
    throw new AppError('resume-mismatch', `${resume.dir} is a ${resume.state.mode}-mode run; the config asks for ${config.mode}.`, {
      hint: 'Resume with the mode the run was started with, or start a new run from its model.',
    });
  }
  if (resume.state.totalEpochs !== config.epochs) {
    emit({
      type: 'log',
      level: 'info',
      message: `The run now has ${config.epochs} epochs instead of ${resume.state.totalEpochs}; the learning-rate schedule stretches to the new length.`,
    });
  }
  if (resume.state.configDigest !== configDigest(config)) {
    emit({
      type: 'warning',
      code: 'resume-config-changed',
      message: `The config differs from the one ${resume.dir} was trained with; the run continues with the new settings.`,
    });
  }
}

/** A resumed run keeps its best checkpoint: copy the old run's into this run's folder. */
async function carryBestCheckpoint(resume: LoadedCheckpoint, runDir: string): Promise<void> {
  const from = path.join(path.dirname(resume.dir), 'best');
  const to = checkpointPath(runDir, 'best');
  if (!resume.state.best || path.resolve(from) === path.resolve(to)) return;
  const exists = await fs.stat(path.join(from, 'trainer.json')).then(
    () => true,
    () => false,
  );
  if (exists) await copyCheckpoint(from, to);
}

function pipelineWarning(emit: (event: TrainEvent) => void) {
  return (warning: { code: string; path: string; message: string }) =>
    emit({ type: 'warning', code: warning.code, message: `${warning.path}: ${warning.message}`, details: { path: warning.path } });
}

function summary(
  config: TrainConfig,
  state: { epoch: number; stepInEpoch: number; stepsPerEpoch: number; best: TrainSummary['best']; history: TrainSummary['history'] } | null,
  seed: number,
  data: TrainingData,
  backends: Backends,
  started: number,
  status: TrainSummary['status'],
  modelDir: string | null,
  lastCheckpoint: string | null,
  bestCheckpoint: string | null,
): TrainSummary {
  return {
    status,
    epochsDone: state?.history.length ?? 0,
    totalEpochs: config.epochs,
    globalSteps: state ? state.epoch * state.stepsPerEpoch + state.stepInEpoch : 0,
    seed,
    classes: data.classes,
    best: state?.best ?? null,
    history: state?.history ?? [],
    modelDir,
    lastCheckpoint,
    bestCheckpoint,
    backend: backends.train,
    seconds: (performance.now() - started) / 1000,
  };
}
