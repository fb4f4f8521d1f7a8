/** What the job manager tells its subscribers and callers (pure types; the UI shows the same). */
import type { ErrorData } from '../common/errors.ts';
import type { JobKind, WorkerEvent } from '../common/protocol.ts';
import type { RunStatus } from '../common/store-types.ts';

/** A job goes through the same statuses as a run (a training job's status IS its run's). */
export type JobStatus = RunStatus;

export interface JobInfo {
  /** `job-1`, `job-2`, … unique within one manager. */
  readonly id: string;
  readonly kind: JobKind;
  /** The run a training job trains (and stores its events in); null for jobs without a run. */
  readonly runId: number | null;
  readonly status: JobStatus;
  readonly paused: boolean;
  /** Why it failed, was cancelled or interrupted. */
  readonly message: string | null;
  readonly pid: number | null;
  readonly createdAt: number;
  readonly startedAt: number | null;
  readonly finishedAt: number | null;
}

/** A change the manager itself makes: queued, spawned, paused, resumed, ended. */
export interface JobStatusEvent {
  readonly type: 'status';
  readonly status: JobStatus;
  readonly paused: boolean;
  readonly message: string | null;
  /** The worker's process id while it runs. */
  readonly pid: number | null;
}

export interface JobEvent {
  readonly jobId: string;
  readonly kind: JobKind;
  readonly runId: number | null;
  /** 1, 2, 3, … per job, in the order the manager received them. */
  readonly seq: number;
  readonly time: number;
  readonly event: WorkerEvent | JobStatusEvent;
}

export type JobListener = (event: JobEvent) => void;

export interface JobResult {
  readonly status: Exclude<JobStatus, 'queued' | 'running'>;
  /** What `finished` carried (the job's summary); null otherwise. */
  readonly summary: unknown;
  /** Why it failed or was interrupted. */
  readonly error: ErrorData | null;
  readonly message: string | null;
}

export interface JobHandle {
  readonly id: string;
  readonly runId: number | null;
  /** Resolves when the worker process has exited and the job's final status is stored. */
  readonly done: Promise<JobResult>;
}
