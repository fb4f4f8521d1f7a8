/**
 * The job manager: a queue of jobs, each run in its own worker process (one training job at a
 * time by default: two would fight over the same cores and memory), live events for subscribers,
 * and, for training jobs, every event written to the experiment store as it arrives. A worker
 * that dies without saying `finished` or `failed` (a crash, the OOM killer, `kill -9`) leaves its
 * run `interrupted`, with the exit code or signal and the end of its output as the reason.
 */
import { AppError, toErrorData, type ErrorData } from '../common/errors.ts';
import {
  failureData,
  JOB_KINDS,
  parseWorkerMessage,
  unsupported,
  versioned,
  type JobKind,
  type JobPayload,
  type JobSpec,
  type WorkerMessage,
} from '../common/protocol.ts';
import type { Store } from '../store/index.ts';
import { workerScript, WORKERS_FOLDER } from './entries.ts';
import { DEFAULT_PROGRESS_INTERVAL_MS, RunRecorder } from './recorder.ts';
import { ChildProcessSpawner, type WorkerProcess, type WorkerSpawner } from './spawner.ts';
import type { JobEvent, JobHandle, JobInfo, JobListener, JobResult, JobStatus, JobStatusEvent } from './types.ts';

/** Jobs of each kind that run at once unless configured: one training, one evaluation, two inspections, one export, one classification. */
export const DEFAULT_CONCURRENCY: Readonly<Record<JobKind, number>> = { train: 1, evaluate: 1, inspect: 2, export: 1, classify: 1 };
/** A worker that said `finished` but has not exited after this long is killed. */
const EXIT_GRACE_MS = 10_000;

export interface JobManagerOptions {
  /** Needed for jobs with a run (training); others run without a store. */
  readonly store?: Store;
  readonly spawner?: WorkerSpawner;
  readonly concurrency?: Partial<Record<JobKind, number>>;
  /** Where workers/launch.mjs lives (the bundled Electron main passes its own). */
  readonly workersFolder?: string;
  /** Environment of the worker processes (EFFNET_HOME, EFFNET_BACKEND, …). */
  readonly env?: NodeJS.ProcessEnv;
  readonly progressIntervalMs?: number;
  /** Problems the manager survives (a store write that failed); default: written to stderr. */
  readonly onError?: (error: unknown, job: JobInfo) => void;
}

export interface SubmitRequest<K extends JobKind> {
  readonly kind: K;
  readonly payload: JobPayload<K>;
  /** A `queued` run that this job trains; its events and status go to the store. */
  readonly runId?: number;
  /** Sees every event of this job from the first (`queued`) to the last; removed when the job ends. */
  readonly listener?: JobListener;
}

interface Job {
  info: JobInfo;
  readonly spec: JobSpec;
  readonly recorder: RunRecorder | null;
  worker: WorkerProcess | null;
  /** The worker said `ready`: before that, commands wait (a process still loading may miss them). */
  ready: boolean;
  seq: number;
  cancelRequested: boolean;
  outcome: { summary: unknown; cancelled: boolean } | { error: ErrorData } | null;
  exitTimer: NodeJS.Timeout | null;
  unsubscribe: (() => void) | null;
  readonly done: Promise<JobResult>;
  readonly resolve: (result: JobResult) => void;
}

export class JobManager {
  readonly #options: JobManagerOptions;
  readonly #spawner: WorkerSpawner;
  readonly #concurrency: Record<JobKind, number>;
  readonly #jobs = new Map<string, Job>();
  readonly #queue: Job[] = [];
  readonly #listeners = new Map<string, Set<JobListener>>();
  #nextId = 1;
  #closing = false;

  constructor(options: JobManagerOptions = {}) {
    this.#options = options;
    this.#spawner = options.spawner ?? new ChildProcessSpawner();
    this.#concurrency = { ...DEFAULT_CONCURRENCY };
    for (const kind of JOB_KINDS) {
      const limit = options.concurrency?.[kind];
      if (limit !== undefined) this.setConcurrency(kind, limit);
    }
    // Runs left `running` by a process that died are not running any more.
    options.store?.runs.markStaleRunsInterrupted('The process that ran this job stopped while it was running.');
  }

  /** Queues a job; it starts when fewer than the kind's limit of jobs of that kind are running. */
  submit<K extends JobKind>(request: SubmitRequest<K>): JobHandle {
    if (this.#closing) throw new AppError('jobs-closing', 'The job manager is shutting down; no new jobs start.');
    const runId = request.runId ?? null;
    let recorder: RunRecorder | null = null;
    if (runId !== null) {
      const store = this.#requireStore();
      const run = store.runs.require(runId);
      if (run.status !== 'queued') {
        throw new AppError('run-status', `Run ${run.id} (${run.name}) is ${run.status}; only a queued run can be started.`);
      }
      recorder = new RunRecorder(store, runId, this.#options.progressIntervalMs ?? DEFAULT_PROGRESS_INTERVAL_MS);
    }
    let resolve!: (result: JobResult) => void;
    const done = new Promise<JobResult>((r) => (resolve = r));
    const job: Job = {
      info: {
        id: `job-${this.#nextId++}`,
        kind: request.kind,
        runId,
        status: 'queued',
        paused: false,
        message: null,
        pid: null,
        createdAt: Date.now(),
        startedAt: null,
        finishedAt: null,
      },
      spec: { kind: request.kind, payload: request.payload } as JobSpec,
      recorder,
      worker: null,
      ready: false,
      seq: 0,
      cancelRequested: false,
      outcome: null,
      exitTimer: null,
      unsubscribe: null,
      done,
      resolve,
    };
    this.#jobs.set(job.info.id, job);
    if (request.listener) job.unsubscribe = this.subscribe(job.info.id, request.listener);
    this.#queue.push(job);
    this.#publishStatus(job);
    this.#pump();
    return { id: job.info.id, runId, done };
  }

  /** One job (by job id, or by the run it trains). */
  get(target: string | number): JobInfo | undefined {
    return this.#find(target)?.info;
  }

  list(): JobInfo[] {
    return [...this.#jobs.values()].map((job) => job.info);
  }

  /**
   * Live events of one run (a number), one job (its id) or every job ('*'). Returns the
   * unsubscribe function. Listeners run synchronously, after the event is stored.
   */
  subscribe(target: number | string, listener: JobListener): () => void {
    const key = typeof target === 'number' ? `run:${target}` : target === '*' ? '*' : `job:${target}`;
    const set = this.#listeners.get(key) ?? new Set();
    this.#listeners.set(key, set);
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0) this.#listeners.delete(key);
    };
  }

  /**
   * Cancels a job: a queued one never starts; a running one stops after its current step and
   * saves a checkpoint. Returns false if the job had already ended.
   */
  cancel(target: string | number): boolean {
    const job = this.#require(target);
    if (job.info.status === 'queued' && !job.worker) {
      this.#queue.splice(this.#queue.indexOf(job), 1);
      this.#guard(job, () => job.recorder?.cancelledBeforeStart());
      this.#end(job, { status: 'cancelled', summary: null, error: null, message: 'Cancelled before it started.' });
      return true;
    }
    if (job.info.finishedAt !== null || job.cancelRequested) return !job.info.finishedAt;
    job.cancelRequested = true;
    if (job.ready) job.worker?.send(versioned({ type: 'cancel' as const }));
    return true;
  }

  /** Holds a running job before its next step. */
  pause(target: string | number): void {
    this.#setPaused(this.#require(target), true);
  }

  /** Lets a paused job go on. (To continue a stopped RUN, see `resumeRun` in ./training.ts.) */
  resume(target: string | number): void {
    this.#setPaused(this.#require(target), false);
  }

  setConcurrency(kind: JobKind, limit: number): void {
    if (!Number.isInteger(limit) || limit < 1) {
      throw new AppError('jobs-invalid', `The number of ${kind} jobs at once must be a whole number ≥ 1, got ${limit}.`);
    }
    this.#concurrency[kind] = limit;
    this.#pump();
  }

  /**
   * Stops taking jobs, cancels the queued ones, asks running ones to cancel (they save a
   * checkpoint), and after `timeoutMs` kills what is still running (those runs end `interrupted`).
   */
  async shutdown(options: { timeoutMs?: number } = {}): Promise<void> {
    this.#closing = true;
    for (const job of [...this.#queue]) this.cancel(job.info.id);
    const running = [...this.#jobs.values()].filter((job) => job.worker && job.info.finishedAt === null);
    for (const job of running) this.cancel(job.info.id);
    const timeout = options.timeoutMs ?? 30_000;
    await Promise.all(
      running.map(async (job) => {
        const timer = setTimeout(() => job.worker?.kill('SIGKILL'), timeout);
        await job.done;
        clearTimeout(timer);
      }),
    );
  }

  // ---- internals ----

  #pump(): void {
    if (this.#closing) return;
    for (const job of [...this.#queue]) {
      const running = [...this.#jobs.values()].filter(
        (one) => one.worker && one.info.finishedAt === null && one.info.kind === job.info.kind,
      );
      if (running.length >= this.#concurrency[job.info.kind]) continue;
      this.#queue.splice(this.#queue.indexOf(job), 1);
      this.#spawn(job);
    }
  }

  #spawn(job: Job): void {
    const worker = this.#spawner.spawn(workerScript(job.info.kind, this.#options.workersFolder ?? WORKERS_FOLDER), {
      env: this.#options.env,
    });
    job.worker = worker;
    job.info = { ...job.info, status: 'running', pid: worker.pid ?? null, startedAt: Date.now() };
    worker.onMessage((raw) => this.#onMessage(job, raw));
    worker.onExit((code, signal) => this.#onExit(job, code, signal));
    this.#publishStatus(job);
  }

  #onMessage(job: Job, raw: unknown): void {
    let message: WorkerMessage;
    try {
      message = parseWorkerMessage(raw);
    } catch (error) {
      // A worker that breaks the protocol cannot be trusted to go on.
      job.outcome ??= { error: toErrorData(error) };
      this.#guard(job, () => job.recorder?.record(versioned({ type: 'failed' as const, ...toErrorData(error) })));
      job.worker?.kill('SIGKILL');
      return;
    }
    switch (message.type) {
      case 'ready':
        if (message.kind !== job.info.kind) {
          job.outcome = {
            error: { code: 'protocol-invalid', message: `Expected the ${job.info.kind} worker, but the ${message.kind} worker started.` },
          };
          job.worker?.kill('SIGKILL');
          return;
        }
        job.ready = true;
        job.worker?.send(versioned({ type: 'start' as const, job: job.spec }));
        if (job.info.paused) job.worker?.send(versioned({ type: 'pause' as const }));
        if (job.cancelRequested) job.worker?.send(versioned({ type: 'cancel' as const }));
        return;
      case 'finished':
      case 'failed':
        job.outcome =
          message.type === 'finished' ? { summary: message.summary, cancelled: message.cancelled } : { error: failureData(message) };
        // The process exits by itself once its last message is out; make sure it does.
        job.exitTimer = setTimeout(() => job.worker?.kill('SIGKILL'), EXIT_GRACE_MS);
        this.#deliver(job, message);
        return;
      case 'started':
      case 'progress':
      case 'epoch':
      case 'checkpoint':
      case 'log':
      case 'warning':
        this.#deliver(job, message);
        return;
      default:
        unsupported(message, 'worker');
    }
  }

  /** Stores the event (for a run), then hands it to the subscribers. */
  #deliver(job: Job, message: Exclude<WorkerMessage, { type: 'ready' }>): void {
    this.#guard(job, () => job.recorder?.record(message));
    this.#publish(job, message);
  }

  #onExit(job: Job, code: number | null, signal: string | null): void {
    if (job.exitTimer) clearTimeout(job.exitTimer);
    const outcome = job.outcome;
    if (outcome && 'summary' in outcome) {
      this.#end(job, { status: outcome.cancelled ? 'cancelled' : 'completed', summary: outcome.summary, error: null, message: null });
    } else if (outcome) {
      // Normally the `failed` event already failed the run; this covers a protocol violation.
      this.#guard(job, () => job.recorder?.ended(outcome.error.message, 'failed'));
      this.#end(job, { status: 'failed', summary: null, error: outcome.error, message: outcome.error.message });
    } else {
      const reason = exitReason(code, signal, job.worker?.outputTail() ?? '');
      // A worker that died after it took the job (said `ready`) was working on it: the run is
      // interrupted and can be resumed, even before training reported `started` (head-mode
      // embeddings, say). One that died while loading never ran: that is a failure to start.
      const interrupted = job.ready;
      this.#guard(job, () => job.recorder?.ended(reason, interrupted ? 'interrupted' : 'failed'));
      const error: ErrorData = { code: 'worker-died', message: reason, details: { exitCode: code, signal } };
      this.#end(job, { status: interrupted ? 'interrupted' : 'failed', summary: null, error, message: reason });
    }
    this.#pump();
  }

  #end(job: Job, result: JobResult): void {
    job.info = { ...job.info, status: result.status, paused: false, message: result.message, finishedAt: Date.now() };
    this.#publishStatus(job);
    job.unsubscribe?.();
    job.resolve(result);
  }

  #setPaused(job: Job, paused: boolean): void {
    if (job.info.finishedAt !== null || job.info.paused === paused) return;
    job.info = { ...job.info, paused };
    if (job.ready) job.worker?.send(versioned({ type: paused ? ('pause' as const) : ('resume' as const) }));
    this.#publishStatus(job);
  }

  #publishStatus(job: Job): void {
    const { status, paused, message, pid } = job.info;
    const event: JobStatusEvent = { type: 'status', status, paused, message, pid };
    this.#publish(job, event);
  }

  #publish(job: Job, event: JobEvent['event']): void {
    const payload: JobEvent = { jobId: job.info.id, kind: job.info.kind, runId: job.info.runId, seq: ++job.seq, time: Date.now(), event };
    const keys = ['*', `job:${job.info.id}`, ...(job.info.runId === null ? [] : [`run:${job.info.runId}`])];
    for (const key of keys) {
      for (const listener of this.#listeners.get(key) ?? []) {
        try {
          listener(payload);
        } catch (error) {
          this.#report(error, job);
        }
      }
    }
  }

  /** Runs a store write; a failure is reported, never thrown into the message loop. */
  #guard(job: Job, write: () => void): void {
    try {
      write();
    } catch (error) {
      this.#report(error, job);
    }
  }

  #report(error: unknown, job: Job): void {
    if (this.#options.onError) this.#options.onError(error, job.info);
    else process.stderr.write(`effnet jobs: ${job.info.id} (${job.info.kind}): ${toErrorData(error).message}\n`);
  }

  #find(target: string | number): Job | undefined {
    if (typeof target === 'string') return this.#jobs.get(target);
    // The newest job of a run (a run is trained by one job, but be safe with resubmits).
    return [...this.#jobs.values()].reverse().find((job) => job.info.runId === target);
  }

  #require(target: string | number): Job {
    const job = this.#find(target);
    if (!job)
      throw new AppError('job-not-found', typeof target === 'number' ? `No job is training run ${target}.` : `There is no job ${target}.`);
    return job;
  }

  #requireStore(): Store {
    if (!this.#options.store)
      throw new AppError('jobs-no-store', 'This job manager has no experiment store, so it cannot run jobs that record a run.');
    return this.#options.store;
  }
}

/** Why a worker stopped, in words, with the end of its output (where an OOM or native crash says why). */
export function exitReason(code: number | null, signal: string | null, output: string): string {
  const how = signal
    ? `was killed by ${signal}${signal === 'SIGKILL' ? ' (out of memory, or killed by hand)' : ''}`
    : code === null
      ? 'could not be started'
      : `exited with code ${code}`;
  const tail = output.split('\n').slice(-8).join('\n').trim();
  return `The worker process ${how} before the job finished.${tail ? `\nLast output:\n${tail}` : ''}`;
}

export type { JobStatus };
