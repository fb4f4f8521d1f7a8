/**
 * Worker threads that decode and augment in parallel with the training step. At most
 * MAX_IN_FLIGHT tasks per worker (decoding is asynchronous inside sharp, so two overlap); each
 * task prefers worker `index mod size`, so an image tends to land in the same worker's cache.
 */
import { Worker } from 'node:worker_threads';
import { AppError } from '../../common/errors.ts';
import { distPath, FROM_SOURCE } from '../../node/resources.ts';
import type { CacheStats } from './cache.ts';
import type { WorkerReply, WorkerRequest, WorkerSetup } from './messages.ts';
import { sumCacheStats, TaskQueue, type RunOutcome, type SampleRunner } from './runner.ts';
import type { SampleTask } from './sample.ts';

const MAX_IN_FLIGHT = 2;
/**
 * From the sources, sample-worker.mjs registers tsx for the thread; from a build (where this code
 * is part of a bundle, so `import.meta.url` is the bundle's) the thread is the compiled
 * sample-worker.ts that main/build.ts writes.
 */
const WORKER_ENTRY: URL | string = FROM_SOURCE
  ? new URL('./sample-worker.mjs', import.meta.url)
  : distPath('workers', 'pipeline-thread.mjs');

interface Slot {
  readonly worker: Worker;
  readonly pending: Map<number, { task: SampleTask; resolve: (o: RunOutcome) => void; reject: (e: unknown) => void }>;
  cache: CacheStats | null;
  alive: boolean;
}

export class WorkerPool implements SampleRunner {
  private readonly slots: Slot[] = [];
  private readonly queue = new TaskQueue();
  private failure: AppError | null = null;
  private closing = false;

  private constructor(
    size: number,
    private readonly setup: WorkerSetup,
  ) {
    for (let i = 0; i < size; i++) this.slots.push(this.startWorker());
  }

  /** sharp must be loaded by the main thread before any worker loads it (sharp docs, "worker threads"). */
  static async start(size: number, setup: WorkerSetup): Promise<WorkerPool> {
    await import('sharp');
    return new WorkerPool(Math.max(1, size), setup);
  }

  get size(): number {
    return this.slots.length;
  }

  private startWorker(): Slot {
    // execArgv [] so the worker does not inherit test-runner or loader flags; sample-worker.mjs registers tsx itself.
    const worker = new Worker(WORKER_ENTRY, { workerData: this.setup, execArgv: [] });
    const slot: Slot = { worker, pending: new Map(), cache: null, alive: true };
    // An idle pool must not keep the process alive if its owner forgot close(); ref'd while busy.
    worker.unref();
    worker.on('message', (reply: WorkerReply) => this.onReply(slot, reply));
    worker.on('error', (error) => this.fail(slot, error));
    worker.on('exit', (code) => {
      slot.alive = false;
      if (!this.closing) this.fail(slot, new Error(`worker exited with code ${code}`));
    });
    return slot;
  }

  private onReply(slot: Slot, reply: WorkerReply): void {
    const pending = slot.pending.get(reply.id);
    if (!pending) return;
    slot.pending.delete(reply.id);
    if (slot.pending.size === 0) slot.worker.unref();
    switch (reply.type) {
      case 'sample':
        slot.cache = reply.cache;
        pending.resolve({ kind: 'sample', image: reply.image });
        break;
      case 'skipped':
        slot.cache = reply.cache;
        pending.resolve({ kind: 'skipped', error: reply.error });
        break;
      case 'failed':
        pending.reject(AppError.fromData(reply.error));
        break;
      default:
        pending.reject(new Error(`unknown reply from a data worker: ${JSON.stringify(reply)}`));
    }
    this.pump();
  }

  /** A crashed worker fails its own tasks and the pool: the error names the file it was working on. */
  private fail(slot: Slot, error: Error): void {
    const paths = [...slot.pending.values()].map((p) => p.task.path);
    this.failure ??= new AppError(
      'pipeline-worker',
      `A data worker stopped${paths.length ? ` while reading ${paths.join(', ')}` : ''}: ${error.message}`,
      {
        hint: 'This is a bug or the machine ran out of memory; try fewer workers (--workers) or a smaller cache.',
        details: { paths },
      },
    );
    for (const pending of slot.pending.values()) pending.reject(this.failure);
    slot.pending.clear();
    this.queue.rejectAll(this.failure);
  }

  run(task: SampleTask): Promise<RunOutcome> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.closing) return Promise.reject(new Error('the data pipeline is closed'));
    const promise = this.queue.push(task);
    this.pump();
    return promise;
  }

  private pump(): void {
    while (this.queue.length > 0 && !this.failure) {
      const task = this.queue.peek()!.task;
      const preferred = this.slots[task.index % this.slots.length]!;
      let slot: Slot | undefined = preferred.pending.size < MAX_IN_FLIGHT ? preferred : undefined;
      for (const candidate of this.slots) {
        if (slot) break;
        if (candidate.pending.size < MAX_IN_FLIGHT) slot = candidate;
      }
      if (!slot) return;
      const queued = this.queue.shift()!;
      if (slot.pending.size === 0) slot.worker.ref();
      slot.pending.set(task.id, { task, resolve: queued.resolve, reject: queued.reject });
      const request: WorkerRequest = { type: 'sample', task };
      slot.worker.postMessage(request);
    }
  }

  drop(which: (task: SampleTask) => boolean): void {
    this.queue.drop(which);
  }

  cacheStats(): CacheStats {
    const known = this.slots.map((s) => s.cache).filter((s): s is CacheStats => s !== null);
    return sumCacheStats(known, this.setup.cacheBytes * this.slots.length);
  }

  /** Stops every worker; tasks still running resolve as dropped. */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    this.queue.drop(() => true);
    for (const slot of this.slots) {
      for (const pending of slot.pending.values()) pending.resolve({ kind: 'dropped' });
      slot.pending.clear();
    }
    await Promise.all(this.slots.map((slot) => slot.worker.terminate()));
  }

  /** Workers whose thread has not exited yet (0 after close()). */
  aliveCount(): number {
    return this.slots.filter((slot) => slot.alive).length;
  }
}
