/**
 * Writes a training job's events into the experiment store as they arrive: every event into
 * run_events, epoch metrics, checkpoint artifacts and the run's status. Step progress is the one
 * thing batched (a step can take milliseconds): the latest progress event and the per-step values
 * go to disk at most once per interval, and always before any other event, so the stored order is
 * the order the worker sent.
 */
import type { JsonValue } from '../common/store-types.ts';
import { unsupported, type WorkerEvent, type WorkerMessageOf } from '../common/protocol.ts';
import type { StepPoint, Store } from '../store/index.ts';

export const DEFAULT_PROGRESS_INTERVAL_MS = 1000;

export class RunRecorder {
  #pendingProgress: WorkerMessageOf<'progress'> | null = null;
  #pendingTime = 0;
  #lastProgressWrite = 0;
  #steps: StepPoint[] = [];
  #lastStep = -1;

  constructor(
    private readonly store: Store,
    readonly runId: number,
    private readonly progressIntervalMs: number = DEFAULT_PROGRESS_INTERVAL_MS,
  ) {}

  /** Stores one event; throws what the store throws (the manager reports it and carries on). */
  record(message: WorkerEvent, now: number = Date.now()): void {
    const { store, runId } = this;
    switch (message.type) {
      case 'progress':
        this.#progress(message, now);
        return;
      case 'started':
        this.flush();
        store.transaction(() => {
          store.runs.start(runId, { backend: message.backend, device: message.device }, now);
          this.#append(message, now);
          linkDataset(store, runId, message.details);
        });
        return;
      case 'epoch':
        this.flush();
        store.transaction(() => {
          this.#append(message, now);
          // NaN travels as null over JSON; the store keeps NaN as NULL either way.
          const values = Object.fromEntries(Object.entries(message.metrics).map(([name, value]) => [name, value ?? Number.NaN]));
          store.metrics.recordEpoch(runId, message.epoch, values);
        });
        return;
      case 'checkpoint':
        this.flush();
        store.transaction(() => {
          this.#append(message, now);
          store.artifacts.add(
            runId,
            {
              kind: message.best ? 'checkpoint-best' : 'checkpoint',
              path: message.path,
              sha256: message.sha256,
              bytes: message.bytes,
              epoch: message.epoch,
            },
            now,
          );
        });
        return;
      case 'log':
      case 'warning':
        this.flush();
        this.#append(message, now);
        return;
      case 'finished':
        this.flush();
        store.transaction(() => {
          this.#append(message, now);
          store.runs.finish(
            runId,
            message.cancelled ? 'cancelled' : 'completed',
            message.cancelled ? 'Cancelled; a checkpoint was saved.' : null,
            now,
          );
        });
        return;
      case 'failed':
        this.flush();
        store.transaction(() => {
          this.#append(message, now);
          store.runs.finish(runId, 'failed', message.message, now);
        });
        return;
      default:
        unsupported(message, 'worker');
    }
  }

  /**
   * The worker is gone and the run has no final status yet. One that died without `finished` or
   * `failed` becomes `interrupted` (it can be resumed from its last checkpoint, or from the start
   * when it had none), whether or not training had reported `started`; a run whose worker broke
   * the protocol becomes `failed`.
   */
  ended(reason: string, status: 'interrupted' | 'failed', now: number = Date.now()): void {
    this.flush();
    const run = this.store.runs.require(this.runId);
    if (run.status === 'running' || run.status === 'queued') this.store.runs.finish(this.runId, status, reason, now);
  }

  /** A job cancelled before its worker started. */
  cancelledBeforeStart(now: number = Date.now()): void {
    if (this.store.runs.require(this.runId).status === 'queued') {
      this.store.runs.finish(this.runId, 'cancelled', 'Cancelled before it started.', now);
    }
  }

  /** Writes the batched progress event and step values now. */
  flush(): void {
    const progress = this.#pendingProgress;
    const steps = this.#steps;
    if (!progress && steps.length === 0) return;
    this.#pendingProgress = null;
    this.#steps = [];
    this.store.transaction(() => {
      if (steps.length > 0) this.store.steps.append(this.runId, steps);
      if (progress) this.#append(progress, this.#pendingTime);
    });
  }

  #progress(message: WorkerMessageOf<'progress'>, now: number): void {
    const step = message.globalStep;
    if (step !== undefined && step > this.#lastStep) {
      const values: Record<string, number> = {};
      for (const [name, value] of Object.entries({ ...message.values, loss: message.loss, learning_rate: message.learningRate })) {
        if (typeof value === 'number') values[name] = value;
      }
      if (Object.keys(values).length > 0) {
        this.#steps.push({ step, values });
        this.#lastStep = step;
      }
    }
    this.#pendingProgress = message;
    this.#pendingTime = now;
    if (now - this.#lastProgressWrite >= this.progressIntervalMs) {
      this.#lastProgressWrite = now;
      this.flush();
    }
  }

  #append(message: WorkerEvent, time: number): void {
    const { protocolVersion: _version, type, ...payload } = message;
    this.store.events.append(this.runId, { type, payload: payload as JsonValue, time });
  }
}

/**
 * Links a run to its dataset row once the worker has fingerprinted the data (the `started`
 * event's details): the runs list shows the dataset, and a changed folder is a new dataset row.
 */
export function linkDataset(store: Store, runId: number, details: unknown): void {
  const started = details as { datasetFingerprint?: unknown; classes?: unknown; trainImages?: unknown; validationImages?: unknown } | null;
  if (typeof started?.datasetFingerprint !== 'string' || !Array.isArray(started.classes)) return;
  const run = store.runs.require(runId);
  const datasetPath = (run.config.dataset as { path?: unknown } | undefined)?.path;
  if (typeof datasetPath !== 'string') return;
  const dataset = store.datasets.upsert({
    path: datasetPath,
    fingerprint: started.datasetFingerprint,
    classes: started.classes.map(String),
    split: { train: Number(started.trainImages) || 0, validation: Number(started.validationImages) || 0, test: 0 },
  });
  // The store has no repository method for this one column; a run's dataset is set once, here.
  store.db.prepare<[number, number]>('UPDATE runs SET dataset_id = ? WHERE id = ? AND dataset_id IS NULL').run(dataset.id, runId);
}
