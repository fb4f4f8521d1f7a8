/** Where samples get made: worker threads (worker-pool.ts) or the calling thread (LocalRunner). */
import type { CacheStats } from './cache.ts';
import type { SampleOutcome, SampleProcessor, SampleTask } from './sample.ts';

/** `dropped`: the task was still queued when its batch was abandoned (the consumer stopped early). */
export type RunOutcome = SampleOutcome | { readonly kind: 'dropped' };

export interface SampleRunner {
  /** Rejects (with the file path in the message) only for failures that are not a bad file. */
  run(task: SampleTask): Promise<RunOutcome>;
  /** Resolve queued, not yet started tasks matching `which` as dropped. */
  drop(which: (task: SampleTask) => boolean): void;
  /** Summed over every worker's cache; peakBytes is the sum of the per-worker peaks (an upper bound). */
  cacheStats(): CacheStats;
  close(): Promise<void>;
}

export function sumCacheStats(all: readonly CacheStats[], budget: number): CacheStats {
  const sum = (pick: (s: CacheStats) => number) => all.reduce((total, s) => total + pick(s), 0);
  return {
    bytes: sum((s) => s.bytes),
    peakBytes: sum((s) => s.peakBytes),
    budget,
    entries: sum((s) => s.entries),
    hits: sum((s) => s.hits),
    misses: sum((s) => s.misses),
    evictions: sum((s) => s.evictions),
  };
}

interface Queued {
  readonly task: SampleTask;
  readonly resolve: (outcome: RunOutcome) => void;
  readonly reject: (error: unknown) => void;
}

/** A queue with dispatch slots, shared by both runners. */
export class TaskQueue {
  private readonly queue: Queued[] = [];

  push(task: SampleTask): Promise<RunOutcome> {
    return new Promise((resolve, reject) => this.queue.push({ task, resolve, reject }));
  }

  shift(): Queued | undefined {
    return this.queue.shift();
  }

  peek(): Queued | undefined {
    return this.queue[0];
  }

  get length(): number {
    return this.queue.length;
  }

  drop(which: (task: SampleTask) => boolean): void {
    for (let i = this.queue.length - 1; i >= 0; i--) {
      const queued = this.queue[i]!;
      if (which(queued.task)) {
        this.queue.splice(i, 1);
        queued.resolve({ kind: 'dropped' });
      }
    }
  }

  rejectAll(error: unknown): void {
    for (const queued of this.queue.splice(0)) queued.reject(error);
  }
}

/** On the calling thread, a few samples at a time (decoding is asynchronous, so two overlap usefully). */
export class LocalRunner implements SampleRunner {
  private readonly queue = new TaskQueue();
  private active = 0;
  private closed = false;

  constructor(
    private readonly processor: SampleProcessor,
    private readonly concurrency = 2,
  ) {}

  run(task: SampleTask): Promise<RunOutcome> {
    if (this.closed) return Promise.reject(new Error('the data pipeline is closed'));
    const promise = this.queue.push(task);
    this.pump();
    return promise;
  }

  private pump(): void {
    while (this.active < this.concurrency && this.queue.length > 0) {
      const queued = this.queue.shift()!;
      this.active++;
      this.processor
        .process(queued.task)
        .then(queued.resolve, queued.reject)
        .finally(() => {
          this.active--;
          this.pump();
        });
    }
  }

  drop(which: (task: SampleTask) => boolean): void {
    this.queue.drop(which);
  }

  cacheStats(): CacheStats {
    return this.processor.cacheStats();
  }

  async close(): Promise<void> {
    this.closed = true;
    this.queue.drop(() => true);
  }
}
