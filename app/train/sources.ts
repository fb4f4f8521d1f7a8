import type { AugmentConfig } from '../dataset/pipeline/config.ts';
import { DataPipeline, type Batch, type PipelineOptions } from '../dataset/pipeline/pipeline.ts';
import { epochOrder } from '../dataset/pipeline/seeds.ts';
import type { LabeledItem } from './data.ts';
import type { RawBatch } from './evaluation.ts';

/**
 * Where a run's batches come from: decoded images through the data pipeline (finetune, full) or
 * rows of the cached embeddings (head). Either way the order of an epoch is a pure function of
 * (seed, epoch), so a resumed run can start at micro-batch k of an epoch and see exactly what an
 * uninterrupted run would have seen.
 */
export interface BatchSource {
  readonly microBatchesPerEpoch: number;
  /** The training micro-batches of `epoch` (0-based) from micro-batch `from` on. */
  train(epoch: number, from: number): AsyncGenerator<RawBatch>;
  /** The validation batches, in a fixed order. */
  validation(): AsyncGenerator<RawBatch>;
  readonly validationImages: number;
  close(): Promise<void>;
}

export interface ImageSourceSettings {
  readonly root: string;
  readonly train: readonly LabeledItem[];
  readonly validation: readonly LabeledItem[];
  readonly imageSize: number;
  readonly batchSize: number;
  readonly seed: number;
  readonly augment: AugmentConfig | null;
  readonly pipeline: PipelineOptions;
}

export async function imageSource(settings: ImageSourceSettings): Promise<BatchSource> {
  const toPipeline = (items: readonly LabeledItem[]) => items.map((item) => ({ path: item.path, labelIndex: item.labelIndex }));
  const options: PipelineOptions = { ...settings.pipeline, root: settings.root };
  const common = { imageSize: settings.imageSize, batchSize: settings.batchSize, seed: settings.seed, epoch: 0 };
  const trainPipeline = await DataPipeline.open(
    toPipeline(settings.train),
    { ...common, shuffle: true, augment: settings.augment, mode: 'train' },
    options,
  );
  let validationPipeline: DataPipeline | null = null;
  try {
    if (settings.validation.length > 0) {
      validationPipeline = await DataPipeline.open(
        toPipeline(settings.validation),
        { ...common, shuffle: false, augment: null, mode: 'eval' },
        options,
      );
    }
  } catch (error) {
    await trainPipeline.close();
    throw error;
  }
  const size = settings.imageSize;
  const toRaw = (batch: Batch): RawBatch => ({
    data: batch.images,
    shape: [batch.size, size, size, 3],
    labels: batch.labels,
    paths: batch.paths,
    size: batch.size,
    index: batch.index,
  });
  return {
    microBatchesPerEpoch: trainPipeline.batchCount(),
    validationImages: settings.validation.length,
    async *train(epoch, from) {
      // The pipeline always starts an epoch at its first batch; batches before `from` are prepared
      // and dropped (only after a resume, at most one epoch's worth).
      for await (const batch of trainPipeline.batches(epoch)) {
        if (batch.index >= from) yield toRaw(batch);
      }
    },
    async *validation() {
      if (!validationPipeline) return;
      for await (const batch of validationPipeline.batches(0)) yield toRaw(batch);
    },
    async close() {
      await trainPipeline.close();
      await validationPipeline?.close();
    },
  };
}

export interface EmbeddingSourceSettings {
  readonly dim: number;
  readonly train: { readonly values: Float32Array; readonly labels: Int32Array; readonly paths: readonly string[] };
  readonly validation: { readonly values: Float32Array; readonly labels: Int32Array; readonly paths: readonly string[] };
  readonly batchSize: number;
  readonly seed: number;
}

export function embeddingSource(settings: EmbeddingSourceSettings): BatchSource {
  const { dim, batchSize } = settings;
  const count = settings.train.labels.length;
  const slice = (set: EmbeddingSourceSettings['train'], rows: ArrayLike<number>, index: number): RawBatch => {
    const data = new Float32Array(rows.length * dim);
    for (let i = 0; i < rows.length; i++) data.set(set.values.subarray(rows[i]! * dim, (rows[i]! + 1) * dim), i * dim);
    return {
      data,
      shape: [rows.length, dim],
      labels: Int32Array.from(rows, (row) => set.labels[row]!),
      paths: Array.from(rows, (row) => set.paths[row]!),
      size: rows.length,
      index,
    };
  };
  return {
    microBatchesPerEpoch: Math.ceil(count / batchSize),
    validationImages: settings.validation.labels.length,
    async *train(epoch, from) {
      // The same permutation the image pipeline uses for (seed, epoch).
      const order = epochOrder(count, settings.seed, epoch, true);
      for (let index = from; index * batchSize < count; index++) {
        yield slice(settings.train, order.subarray(index * batchSize, Math.min(count, (index + 1) * batchSize)), index);
      }
    },
    async *validation() {
      const total = settings.validation.labels.length;
      for (let index = 0; index * batchSize < total; index++) {
        const rows = Array.from({ length: Math.min(batchSize, total - index * batchSize) }, (_, i) => index * batchSize + i);
        yield slice(settings.validation, rows, index);
      }
    },
    async close() {},
  };
}
