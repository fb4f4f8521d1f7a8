/**
 * Live events from the core to the UI: one tagged union, delivered over Electron IPC
 * (`webContents.send`) or server-sent events (`GET /api/events`). Events are notifications; the
 * renderer refetches through the channels in contract.ts for anything it must not miss.
 * Pure TypeScript: the renderer imports this file.
 */
import type { WorkerEvent } from '../protocol.ts';
import type { RunStatus } from '../store-types.ts';

/** A change the job manager itself makes (queued, spawned, paused, resumed, ended). */
export type JobStatusChange = {
  readonly type: 'status';
  readonly status: RunStatus;
  readonly paused: boolean;
  readonly message: string | null;
};

/** One live event of a job, as the job manager publishes it (app/jobs/types.ts JobEvent). */
export interface LiveJobEvent {
  readonly jobId: string;
  readonly kind: 'train' | 'evaluate' | 'inspect' | 'export' | 'classify';
  readonly runId: number | null;
  readonly seq: number;
  readonly time: number;
  readonly event: WorkerEvent | JobStatusChange;
}

export type AppEvent =
  /** A dataset check in progress: `done` of `total` images decoded. */
  | { readonly type: 'dataset:progress'; readonly source: string; readonly done: number; readonly total: number }
  /** Runs were added, changed or deleted: lists should refresh. */
  | { readonly type: 'runs:changed'; readonly runId: number | null }
  /** One event of a job: worker progress, epochs, checkpoints, logs, and status changes. */
  | { readonly type: 'job:event'; readonly job: LiveJobEvent }
  /**
   * A scaling search moved on (the Scaling lab refetches `scaling:get`): it started, measured
   * latencies, a candidate started, its run was queued (`runId`: its epochs and steps arrive as
   * that run's job:event), an epoch ended, the candidate ended, or the search stopped or ended.
   */
  | {
      readonly type: 'scaling:progress';
      readonly searchId: string;
      readonly phase: 'started' | 'measuring' | 'candidate-started' | 'candidate-run' | 'epoch' | 'candidate-ended' | 'stopping' | 'ended';
      readonly candidate: number | null;
      readonly runId: number | null;
      readonly message: string | null;
    }
  /** The desktop shell's File menu opened a dataset (the renderer shows it). */
  | { readonly type: 'shell:open-dataset'; readonly source: string }
  /** Sent once on every new events connection, so a client knows the stream is live. */
  | { readonly type: 'hello'; readonly time: number };

export type AppEventType = AppEvent['type'];

/** The Electron IPC channel that carries AppEvents from main to the preload. */
export const EVENTS_CHANNEL = 'app:event';
