/**
 * Datasets in, batches out. Items are decoded and augmented by worker threads while the consumer
 * computes; at most `prefetchBatches` batches exist ahead of the consumer, and decoded images live
 * only in a byte-bounded cache, so memory does not grow with the dataset. The order of an epoch and
 * every sample's augmentation depend only on (seed, epoch, item index).
 */
import os from 'node:os';
import path from 'node:path';
import { AppError } from '../../common/errors.ts';
import { validatePipelineConfig, type PipelineConfig, type TransformConfig } from './config.ts';
import type { CacheStats } from './cache.ts';
import { LocalRunner, type RunOutcome, type SampleRunner } from './runner.ts';
import { SampleProcessor, type Decoder, type SampleTask } from './sample.ts';
import { epochOrder } from './seeds.ts';
import { WorkerPool } from './worker-pool.ts';

export interface PipelineItem {
  /** Absolute, or relative (POSIX separators) to `options.root`. */
  readonly path: string;
  readonly labelIndex: number;
}

/** One batch, ready for tf.tensor4d(images, [size, imageSize, imageSize, 3]). */
export interface Batch {
  /** size × imageSize × imageSize × 3 RGB floats in 0–255 (HWC). */
  readonly images: Float32Array;
  readonly labels: Int32Array;
  /** The items' paths as given. */
  readonly paths: string[];
  /** May be below batchSize: the last batch, or one with unreadable files taken out. */
  readonly size: number;
  readonly epoch: number;
  readonly index: number;
}

export interface PipelineWarning {
  readonly code: 'unreadable-image';
  readonly path: string;
  readonly message: string;
}

export interface PipelineOptions {
  readonly root?: string;
  /** Worker threads; 0 decodes on the calling thread. Default: CPUs − 1, at most 4. */
  readonly workers?: number;
  /** Batches prepared ahead of the consumer (default 3). */
  readonly prefetchBatches?: number;
  /** Byte budget of the decoded-image cache, split evenly between workers (default 256 MiB). */
  readonly cacheBytes?: number;
  /** Called once per unreadable file; the file is then left out of every batch. */
  readonly onWarning?: (warning: PipelineWarning) => void;
  /** Tests only, with workers: 0: read pixels some other way than app/image/decode.ts. */
  readonly decode?: Decoder;
}

export interface PipelineStats {
  readonly workers: number;
  readonly workersAlive: number;
  readonly batchesInFlight: number;
  /** The most batches that ever existed ahead of the consumer: never above prefetchBatches. */
  readonly batchesInFlightPeak: number;
  readonly prefetchBatches: number;
  readonly samples: number;
  readonly skipped: number;
  readonly cache: CacheStats;
}

export const DEFAULT_CACHE_BYTES = 256 * 1024 * 1024;
export const DEFAULT_PREFETCH_BATCHES = 3;

export function defaultWorkerCount(): number {
  return Math.max(1, Math.min(4, os.availableParallelism() - 1));
}

export class DataPipeline {
  private nextTaskId = 0;
  private inFlight = 0;
  private inFlightPeak = 0;
  private samples = 0;
  private readonly unreadable = new Set<number>();
  private readonly paths: string[];

  private constructor(
    readonly items: readonly PipelineItem[],
    readonly config: PipelineConfig,
    private readonly runner: SampleRunner,
    private readonly workers: number,
    private readonly prefetch: number,
    private readonly onWarning: (warning: PipelineWarning) => void,
    root: string,
  ) {
    this.paths = items.map((item) => resolveItemPath(item.path, root));
  }

  static async open(items: readonly PipelineItem[], config: PipelineConfig, options: PipelineOptions = {}): Promise<DataPipeline> {
    validatePipelineConfig(config);
    const workers = options.workers ?? defaultWorkerCount();
    const prefetch = options.prefetchBatches ?? DEFAULT_PREFETCH_BATCHES;
    if (!Number.isInteger(workers) || workers < 0)
      throw new AppError('pipeline-config', `workers must be a whole number from 0, got ${workers}`);
    if (!Number.isInteger(prefetch) || prefetch < 1)
      throw new AppError('pipeline-config', `prefetchBatches must be at least 1, got ${prefetch}`);
    const cacheBytes = options.cacheBytes ?? DEFAULT_CACHE_BYTES;
    const transform: TransformConfig = { imageSize: config.imageSize, mode: config.mode, augment: config.augment, seed: config.seed };
    const runner: SampleRunner =
      workers === 0
        ? new LocalRunner(new SampleProcessor(transform, cacheBytes, options.decode))
        : await WorkerPool.start(workers, { transform, cacheBytes: Math.floor(cacheBytes / workers) });
    return new DataPipeline(items, config, runner, workers, prefetch, options.onWarning ?? (() => {}), options.root ?? process.cwd());
  }

  batchCount(): number {
    const { batchSize, keepRemainder = true } = this.config;
    return keepRemainder ? Math.ceil(this.items.length / batchSize) : Math.floor(this.items.length / batchSize);
  }

  /** The batches of one epoch (default config.epoch), in order. Breaking out early is fine. */
  async *batches(epoch = this.config.epoch): AsyncGenerator<Batch, void, undefined> {
    const order = epochOrder(this.items.length, this.config.seed, epoch, this.config.shuffle);
    const count = this.batchCount();
    const mine = new Set<number>();
    const ahead: Promise<Batch>[] = [];
    let next = 0;
    try {
      while (next < count || ahead.length > 0) {
        while (ahead.length < this.prefetch && next < count) {
          const batch = this.assemble(order, epoch, next++, mine);
          batch.catch(() => {}); // awaited below; abandoned ones must not surface as unhandled
          ahead.push(batch);
          this.inFlight++;
          this.inFlightPeak = Math.max(this.inFlightPeak, this.inFlight);
        }
        const pending = ahead.shift()!;
        this.inFlight--;
        const batch = await pending;
        if (batch.size > 0) yield batch;
      }
    } finally {
      this.inFlight -= ahead.length;
      this.runner.drop((task) => mine.has(task.id));
    }
  }

  private async assemble(order: Int32Array, epoch: number, batchIndex: number, mine: Set<number>): Promise<Batch> {
    const { batchSize, imageSize } = this.config;
    const start = batchIndex * batchSize;
    const indices = Array.from(order.subarray(start, Math.min(order.length, start + batchSize))).filter((i) => !this.unreadable.has(i));
    const pixels = imageSize * imageSize * 3;
    const images = new Float32Array(indices.length * pixels);
    const filled = new Uint8Array(indices.length);
    const outcomes = await Promise.all(
      indices.map(async (index, slot) => {
        const task: SampleTask = { id: this.nextTaskId++, path: this.paths[index]!, index, epoch };
        mine.add(task.id);
        let outcome: RunOutcome;
        try {
          outcome = await this.runner.run(task);
        } catch (error) {
          const message = error instanceof Error ? error.message : String(error);
          throw new AppError('pipeline-sample', `Could not prepare ${this.items[index]!.path}: ${message}`, {
            cause: error,
            details: { path: task.path },
          });
        } finally {
          mine.delete(task.id);
        }
        if (outcome.kind === 'sample') {
          images.set(outcome.image, slot * pixels);
          filled[slot] = 1;
          this.samples++;
        } else if (outcome.kind === 'skipped' && !this.unreadable.has(index)) {
          this.unreadable.add(index);
          this.onWarning({ code: 'unreadable-image', path: this.items[index]!.path, message: outcome.error.message });
        }
        return outcome.kind;
      }),
    );
    const kept = indices.filter((_, slot) => filled[slot] === 1);
    let packed = images;
    if (kept.length < indices.length) {
      // Close the gaps left by skipped (or dropped) samples.
      packed = new Float32Array(kept.length * pixels);
      let to = 0;
      for (let slot = 0; slot < indices.length; slot++) {
        if (outcomes[slot] !== 'sample') continue;
        packed.set(images.subarray(slot * pixels, (slot + 1) * pixels), to * pixels);
        to++;
      }
    }
    return {
      images: packed,
      labels: Int32Array.from(kept, (i) => this.items[i]!.labelIndex),
      paths: kept.map((i) => this.items[i]!.path),
      size: kept.length,
      epoch,
      index: batchIndex,
    };
  }

  stats(): PipelineStats {
    return {
      workers: this.workers,
      workersAlive: this.runner instanceof WorkerPool ? this.runner.aliveCount() : 0,
      batchesInFlight: this.inFlight,
      batchesInFlightPeak: this.inFlightPeak,
      prefetchBatches: this.prefetch,
      samples: this.samples,
      skipped: this.unreadable.size,
      cache: this.runner.cacheStats(),
    };
  }

  /** Stops the workers. Safe to call twice. */
  async close(): Promise<void> {
    await this.runner.close();
  }
}

export function resolveItemPath(itemPath: string, root: string): string {
  return path.isAbsolute(itemPath) ? itemPath : path.resolve(root, ...itemPath.split('/'));
}

/** One epoch's batches; the workers stop when the loop ends, however it ends. */
export async function* streamBatches(
  items: readonly PipelineItem[],
  config: PipelineConfig,
  options: PipelineOptions = {},
): AsyncGenerator<Batch, void, undefined> {
  const pipeline = await DataPipeline.open(items, config, options);
  try {
    yield* pipeline.batches();
  } finally {
    await pipeline.close();
  }
}
