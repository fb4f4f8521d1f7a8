import { access } from 'node:fs/promises';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../backend/ladder.ts';
import { AppError } from '../common/errors.ts';
import { DataPipeline, type PipelineWarning } from '../dataset/pipeline/pipeline.ts';
import { loadModel, METADATA_FILE, type LoadedModel } from '../model/model-format.ts';
import { useFastCpuKernels } from './cpu-kernels.ts';
import { evaluateBatches, type EvaluationResult, type RawBatch } from './evaluation.ts';
import type { LossSettings } from './losses.ts';

export interface EvaluateItem {
  /** Absolute, or relative to `options.root` (POSIX separators). */
  readonly path: string;
  readonly label: string;
}

export interface ForwardOptions {
  /** Folder relative item paths are resolved against (default: the working directory). */
  readonly root?: string;
  readonly batchSize?: number;
  /** Decoding threads (default: the pipeline's). */
  readonly workers?: number;
  /** For the backend ladder (EFFNET_BACKEND); process.env by default. */
  readonly env?: NodeJS.ProcessEnv;
  readonly signal?: AbortSignal;
  readonly onProgress?: (done: number, total: number) => void;
}

export interface EvaluationReport extends EvaluationResult {
  readonly modelDir: string;
  readonly labels: readonly string[];
  readonly backend: string;
  /** Files that could not be decoded, left out of the metrics. */
  readonly unreadable: readonly PipelineWarning[];
}

/**
 * A model folder, or a checkpoint folder (its `model/`), or a run folder (its final `model/`):
 * whichever holds effnet.json.
 */
export async function resolveModelDir(location: string): Promise<string> {
  const dir = path.resolve(location);
  for (const candidate of [dir, path.join(dir, 'model')]) {
    const found = await access(path.join(candidate, METADATA_FILE)).then(
      () => true,
      () => false,
    );
    if (found) return candidate;
  }
  throw new AppError('model-not-found', `${dir} holds no model (no ${METADATA_FILE} in it or in its model/ folder).`, {
    hint: 'Give a model folder, a checkpoint folder or a run folder.',
  });
}

/**
 * Evaluates a saved model on labelled images: loss, accuracy, top-5, per-class precision/recall/F1,
 * the confusion matrix and, per confusion cell, the misclassified files (most confident first), so
 * the UI can open them. Runs on the ladder's backend (wasm is fine: no gradients are needed).
 */
export async function evaluate(
  modelLocation: string,
  items: readonly EvaluateItem[],
  options: ForwardOptions = {},
): Promise<EvaluationReport> {
  const modelDir = await resolveModelDir(modelLocation);
  const report = await forwardBackend(options.env);
  const loaded = await loadModel(modelDir);
  try {
    const { labels, spec } = loaded.metadata;
    if (!spec.includeTop) throw new AppError('model-no-classifier', `${modelDir} has no classifier to evaluate.`);
    const index = new Map(labels.map((label, i) => [label, i]));
    const unknown = items.find((item) => !index.has(item.label));
    if (unknown) {
      throw new AppError('evaluate-unknown-label', `${unknown.path} is labelled '${unknown.label}', which the model does not know.`, {
        hint: `The model's classes are: ${labels.join(', ')}.`,
      });
    }
    const unreadable: PipelineWarning[] = [];
    const pipeline = await openEvalPipeline(
      loaded,
      items.map((item) => ({ path: item.path, labelIndex: index.get(item.label)! })),
      options,
      (warning) => unreadable.push(warning),
    );
    const loss: LossSettings = {
      numClasses: labels.length,
      labelSmoothing: 0,
      classWeights: null,
      probabilities: spec.classifierActivation === 'softmax',
    };
    try {
      const result = await evaluateBatches(
        rawBatches(pipeline, spec.resolution),
        (x) => loaded.model.predict(x) as tf.Tensor,
        labels,
        loss,
        {
          collectMisclassified: true,
          signal: options.signal,
          onBatch: (done) => options.onProgress?.(done, items.length),
        },
      );
      if (!result) throw new AppError('cancelled', 'The evaluation was cancelled.');
      return { ...result, modelDir, labels, backend: report.backend, unreadable };
    } finally {
      await pipeline.close();
    }
  } finally {
    loaded.model.dispose();
  }
}

export interface Prediction {
  readonly path: string;
  /** The k most probable classes, most probable first. */
  readonly top: readonly { readonly label: string; readonly probability: number }[];
}

export interface PredictOptions extends ForwardOptions {
  readonly topK?: number;
}

/**
 * Classifies image files with a loaded model (or a model folder). Files that cannot be decoded are
 * reported in `unreadable` and have no prediction.
 */
export async function predictFiles(
  model: LoadedModel | string,
  paths: readonly string[],
  options: PredictOptions = {},
): Promise<{ predictions: Prediction[]; unreadable: PipelineWarning[] }> {
  const loaded = typeof model === 'string' ? await loadModel(await resolveModelDir(model)) : model;
  await forwardBackend(options.env);
  const { labels, spec } = loaded.metadata;
  const topK = Math.max(1, Math.min(options.topK ?? 5, labels.length));
  const unreadable: PipelineWarning[] = [];
  const pipeline = await openEvalPipeline(
    loaded,
    paths.map((p) => ({ path: p, labelIndex: 0 })),
    options,
    (warning) => unreadable.push(warning),
  );
  const predictions: Prediction[] = [];
  try {
    for await (const batch of rawBatches(pipeline, spec.resolution)) {
      if (options.signal?.aborted) break;
      const output = tf.tidy(() => {
        const raw = loaded.model.predict(tf.tensor(batch.data, [...batch.shape])) as tf.Tensor;
        return spec.classifierActivation === 'softmax' ? raw : tf.softmax(raw);
      });
      const { values, indices } = tf.topk(output, topK);
      const [probabilities, classes] = [(await values.data()) as Float32Array, (await indices.data()) as Int32Array];
      tf.dispose([output, values, indices]);
      batch.paths.forEach((file, i) => {
        const top = Array.from({ length: topK }, (_, k) => ({
          label: labels[classes[i * topK + k]!]!,
          probability: probabilities[i * topK + k]!,
        }));
        predictions.push({ path: file, top });
      });
      options.onProgress?.(predictions.length, paths.length);
    }
  } finally {
    await pipeline.close();
    if (typeof model === 'string') loaded.model.dispose();
  }
  return { predictions, unreadable };
}

/** The ladder's backend: forward passes need no gradients, so wasm is fine; on cpu, the faster kernels. */
async function forwardBackend(env: NodeJS.ProcessEnv | undefined) {
  const report = await initBackend({ env });
  if (report.backend === 'cpu') useFastCpuKernels();
  return report;
}

async function openEvalPipeline(
  loaded: LoadedModel,
  items: { path: string; labelIndex: number }[],
  options: ForwardOptions,
  onWarning: (warning: PipelineWarning) => void,
): Promise<DataPipeline> {
  return DataPipeline.open(
    items,
    {
      imageSize: loaded.metadata.spec.resolution,
      batchSize: options.batchSize ?? 32,
      shuffle: false,
      seed: 0,
      epoch: 0,
      augment: null,
      mode: 'eval',
    },
    { root: options.root, onWarning, ...(options.workers === undefined ? {} : { workers: options.workers }) },
  );
}

async function* rawBatches(pipeline: DataPipeline, size: number): AsyncGenerator<RawBatch> {
  for await (const batch of pipeline.batches()) {
    yield {
      data: batch.images,
      shape: [batch.size, size, size, 3],
      labels: batch.labels,
      paths: batch.paths,
      size: batch.size,
      index: batch.index,
    };
  }
}
