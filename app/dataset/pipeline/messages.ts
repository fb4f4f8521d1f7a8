/** The one contract between the pipeline and its worker threads (STYLE.md §5). */
import type { ErrorData } from '../../common/errors.ts';
import type { CacheStats } from './cache.ts';
import type { TransformConfig } from './config.ts';
import type { SampleTask } from './sample.ts';

/** Sent once, as workerData. */
export interface WorkerSetup {
  readonly transform: TransformConfig;
  readonly cacheBytes: number;
}

export type WorkerRequest = { readonly type: 'sample'; readonly task: SampleTask };

export type WorkerReply =
  | { readonly type: 'sample'; readonly id: number; readonly image: Float32Array; readonly cache: CacheStats }
  | { readonly type: 'skipped'; readonly id: number; readonly error: ErrorData; readonly cache: CacheStats }
  /** A bug or a broken message, not a bad file: the pipeline stops with this error. */
  | { readonly type: 'failed'; readonly id: number; readonly error: ErrorData };
