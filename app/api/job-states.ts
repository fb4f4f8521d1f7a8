/**
 * What a screen needs of an export or classify job beyond its JobInfo: the latest progress, the
 * warnings and, once it ended, the worker's summary. The job manager hands the summary only to
 * whoever holds the job's `done` promise, so the API keeps it here, per API context, for the
 * `exports:job` / `classify:job` channels (a screen that missed the end event, or was reopened,
 * asks again). Only the newest ended jobs are kept: a classification of a big folder is large.
 */
import { AppError, type ErrorData } from '../common/errors.ts';
import type { JobProgress, JobState } from '../common/ipc/deployment.ts';
import type { JobKind } from '../common/protocol.ts';
import type { SubmitRequest } from '../jobs/manager.ts';
import type { JobResult } from '../jobs/types.ts';
import type { ApiContext } from './context.ts';

/** Ended jobs whose results are kept. */
const KEEP_ENDED = 20;
/** Warnings kept per job (the first ones: later ones usually repeat the cause). */
const KEEP_WARNINGS = 50;

interface TrackedJob {
  readonly kind: JobKind;
  progress: JobProgress | null;
  readonly warnings: string[];
  result: JobResult | null;
  done: Promise<JobResult> | null;
  cancelRequested: boolean;
}

const registries = new WeakMap<ApiContext, Map<string, TrackedJob>>();

function registry(context: ApiContext): Map<string, TrackedJob> {
  let jobs = registries.get(context);
  if (!jobs) registries.set(context, (jobs = new Map()));
  return jobs;
}

export interface TrackOptions {
  /** Warning codes not kept (a classification reports each skipped file in its summary too). */
  readonly ignoreWarnings?: readonly string[];
  /** Runs after the result is kept (cleanup, notifications); its failure is only logged. */
  readonly onEnd?: (result: JobResult) => void | Promise<void>;
}

/** Submits a job to the context's job manager and keeps its progress and result; returns its id. */
export function submitTracked<K extends JobKind>(context: ApiContext, request: SubmitRequest<K>, options: TrackOptions = {}): string {
  const jobs = registry(context);
  const tracked: TrackedJob = { kind: request.kind, progress: null, warnings: [], result: null, done: null, cancelRequested: false };
  const handle = context.jobs().submit({
    ...request,
    listener: (event) => {
      const message = event.event;
      if (message.type === 'progress') {
        tracked.progress = { phase: message.phase, step: message.step, steps: message.steps, message: message.message ?? null };
      } else if (message.type === 'warning' && !options.ignoreWarnings?.includes(message.code)) {
        if (tracked.warnings.length < KEEP_WARNINGS) tracked.warnings.push(message.message);
      }
    },
  });
  tracked.done = handle.done;
  jobs.set(handle.id, tracked);
  void handle.done.then(async (result) => {
    tracked.result = result;
    forgetOldest(jobs);
    try {
      await options.onEnd?.(result);
    } catch (error) {
      console.warn(`After ${request.kind} job ${handle.id}: ${error instanceof Error ? error.message : String(error)}`);
    }
  });
  return handle.id;
}

/** The state of a job this context submitted; `kind` guards against asking the wrong screen's channel. */
export async function jobState<T>(
  context: ApiContext,
  jobId: string,
  kind: JobKind,
  toResult: (summary: unknown) => T,
): Promise<JobState<T>> {
  const tracked = registry(context).get(jobId);
  const info = context.jobs().get(jobId);
  if (!tracked || !info || tracked.kind !== kind) {
    throw new AppError('job-not-found', `There is no ${kind} job ${jobId} in this session.`, {
      hint: 'Jobs are forgotten when the app restarts (and only the latest finished ones are kept): start it again.',
    });
  }
  // The manager marks a job ended just before its `done` resolves: wait that moment for the result.
  const result = info.finishedAt === null ? null : (tracked.result ?? (await tracked.done));
  const error: ErrorData | null =
    result === null || result.status === 'completed'
      ? null
      : // A job stopped by its signal may end `failed` with an AbortError: the user asked for it, so it reads as a cancel.
        tracked.cancelRequested || result.status === 'cancelled'
        ? { code: 'job-cancelled', message: result.status === 'cancelled' && result.message ? result.message : 'Cancelled.' }
        : (result.error ?? { code: 'job-failed', message: result.message ?? `The job ended ${result.status}.` });
  return {
    job: context.jobs().get(jobId) ?? info,
    progress: tracked.progress,
    warnings: [...tracked.warnings],
    result: result?.status === 'completed' ? toResult(result.summary) : null,
    error,
  };
}

/** Cancels a job this context submitted (it stops after its current step). */
export function cancelTracked(context: ApiContext, jobId: string, kind: JobKind): { cancelled: boolean } {
  const tracked = registry(context).get(jobId);
  if (!tracked || tracked.kind !== kind) throw new AppError('job-not-found', `There is no ${kind} job ${jobId} in this session.`);
  const cancelled = context.jobs().cancel(jobId);
  tracked.cancelRequested ||= cancelled;
  return { cancelled };
}

function forgetOldest(jobs: Map<string, TrackedJob>): void {
  const ended = [...jobs].filter(([, job]) => job.result !== null);
  for (const [id] of ended.slice(0, Math.max(0, ended.length - KEEP_ENDED))) jobs.delete(id);
}
