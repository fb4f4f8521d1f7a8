import type * as tf from '@tensorflow/tfjs';
import type { ModelSpec } from '../common/efficientnet/index.ts';
import type { TrainConfig } from '../common/train-config.ts';
import type { TrainEvent } from '../common/train-types.ts';
import type { PipelineOptions } from '../dataset/pipeline/pipeline.ts';
import { dataPaths } from '../node/paths.ts';
import { onBackend, type Backends } from './backends.ts';
import type { TrainingData } from './data.ts';
import {
  computeEmbeddings,
  embeddingCacheKey,
  mergeEmbeddings,
  readEmbeddingCache,
  selectRows,
  writeEmbeddingCache,
} from './embeddings.ts';
import type { PreparedModel } from './model-setup.ts';
import { embeddingSource, type BatchSource } from './sources.ts';

export interface HeadSourceSettings {
  readonly model: tf.LayersModel;
  readonly spec: ModelSpec;
  readonly data: TrainingData;
  readonly prepared: PreparedModel;
  readonly config: TrainConfig;
  readonly seed: number;
  readonly backends: Backends;
  readonly env: NodeJS.ProcessEnv;
  readonly pipeline: PipelineOptions;
  readonly emit: (event: TrainEvent) => void;
  readonly signal?: AbortSignal;
}

/**
 * Head mode's batches: the frozen backbone's features of the train and validation images, read from
 * the cache (`dataPaths().cache/embeddings`) or computed once on the forward backend and cached.
 * Returns null when cancelled while computing.
 */
export async function headSource(settings: HeadSourceSettings): Promise<BatchSource | null> {
  const { data, emit, backends } = settings;
  const cacheDir = dataPaths(settings.env).cache;
  const key = embeddingCacheKey({
    datasetFingerprint: data.fingerprint,
    spec: settings.spec,
    weightsIdentity: settings.prepared.weightsIdentity,
  });
  let embeddings = await readEmbeddingCache(cacheDir, key);
  const known = new Set(embeddings?.paths ?? []);
  const needed = [...data.train, ...data.validation];
  const missing = needed.filter((item) => !known.has(item.path));
  if (missing.length > 0) {
    emit({
      type: 'log',
      level: 'info',
      message: `Computing embeddings of ${missing.length} images on '${backends.forward}' (cached for later head-mode runs).`,
    });
    const computed = await onBackend(backends.forward, backends.train, () =>
      computeEmbeddings(settings.model, missing, {
        root: data.root,
        batchSize: settings.config.batchSize,
        pipeline: settings.pipeline,
        signal: settings.signal,
        onProgress: (done, total) =>
          emit({
            type: 'progress',
            phase: 'embed',
            epoch: 0,
            step: done,
            steps: total,
            loss: null,
            imagesPerSecond: null,
            etaSeconds: null,
            learningRate: null,
          }),
      }),
    );
    if (!computed) return null;
    embeddings = mergeEmbeddings(embeddings, computed);
    await writeEmbeddingCache(cacheDir, key, embeddings);
  } else {
    emit({ type: 'log', level: 'info', message: `Using cached embeddings of ${needed.length} images (${key}).` });
  }
  return embeddingSource({
    dim: embeddings!.dim,
    train: selectRows(embeddings!, data.train),
    validation: selectRows(embeddings!, data.validation),
    batchSize: settings.config.batchSize,
    seed: settings.seed,
  });
}
