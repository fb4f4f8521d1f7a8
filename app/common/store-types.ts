/**
 * The experiment store's rows as the rest of the app sees them (app/store/ reads and writes them;
 * the renderer imports these types, so this file stays pure TypeScript). Times are milliseconds
 * since the Unix epoch; ids are SQLite integer ids.
 */

export type JsonValue = string | number | boolean | null | readonly JsonValue[] | { readonly [key: string]: JsonValue };
export type JsonObject = { readonly [key: string]: JsonValue };

/** Every status a run can be in; the order is the order a run usually goes through them. */
export const RUN_STATUSES = ['queued', 'running', 'completed', 'failed', 'cancelled', 'interrupted'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

/**
 * The allowed status changes. A run ends in exactly one final status and never leaves it:
 * continuing an interrupted, cancelled or failed run makes a NEW run whose `resumedFrom` names the
 * old one (its metrics and checkpoints stay with the run that produced them, so the old run's
 * charts never change after the fact). `interrupted` is set only by the store at start for runs
 * whose owning process died while they were `running`.
 */
export const RUN_TRANSITIONS: { readonly [from in RunStatus]: readonly RunStatus[] } = {
  // A queued run whose worker died before training started (e.g. while computing head-mode
  // embeddings) is interrupted, not failed: it can be resumed like any other.
  queued: ['running', 'cancelled', 'failed', 'interrupted'],
  running: ['completed', 'failed', 'cancelled', 'interrupted'],
  completed: [],
  failed: [],
  cancelled: [],
  interrupted: [],
};

/** Runs that can be continued (from their last checkpoint) as a new run linked by `resumedFrom`. */
export const RESUMABLE_STATUSES: readonly RunStatus[] = ['interrupted', 'cancelled', 'failed'];

export function canTransition(from: RunStatus, to: RunStatus): boolean {
  return RUN_TRANSITIONS[from].includes(to);
}

export function isFinalStatus(status: RunStatus): boolean {
  return RUN_TRANSITIONS[status].length === 0;
}

/** Epoch metric that the runs list ranks by (Keras' name for validation accuracy). */
export const VALIDATION_ACCURACY = 'val_accuracy';

/** Images per subset; `method` says how the split was made (folders, a seeded fraction, …). */
export interface DatasetSplit {
  readonly train: number;
  readonly validation: number;
  readonly test: number;
  readonly method?: string;
}

export interface DatasetRow {
  readonly id: number;
  readonly path: string;
  /** Content fingerprint: the same path with new contents is a different dataset row. */
  readonly fingerprint: string;
  readonly name: string;
  readonly classes: readonly string[];
  readonly split: DatasetSplit;
  readonly createdAt: number;
  readonly lastUsedAt: number;
}

export interface RunRow {
  readonly id: number;
  readonly name: string;
  readonly datasetId: number | null;
  readonly config: JsonObject;
  readonly status: RunStatus;
  /** Why the run failed, was cancelled or was interrupted; null otherwise. */
  readonly statusMessage: string | null;
  readonly backend: string | null;
  readonly device: string | null;
  readonly seed: number | null;
  readonly createdAt: number;
  readonly startedAt: number | null;
  readonly finishedAt: number | null;
  /** The run this one continues (from its last checkpoint), or null. */
  readonly resumedFrom: number | null;
  readonly ownerPid: number | null;
  readonly ownerHost: string | null;
  /** Highest epoch with metrics; 0 before the first epoch ends. */
  readonly epochsDone: number;
  readonly bestValAccuracy: number | null;
  readonly bestEpoch: number | null;
  /** Validation accuracy at the last recorded epoch. */
  readonly finalValAccuracy: number | null;
}

/** One line of the runs list: the run plus what the list shows beside it. */
export interface RunListRow extends Omit<RunRow, 'config' | 'ownerPid' | 'ownerHost'> {
  readonly datasetName: string | null;
  readonly tags: readonly string[];
  /** finishedAt − startedAt; for a running run, now − startedAt; null if it never started. */
  readonly durationMs: number | null;
}

export type RunSortKey = 'created' | 'name' | 'bestValAccuracy' | 'finalValAccuracy' | 'duration';

export interface RunListQuery {
  readonly status?: RunStatus | readonly RunStatus[];
  /** Runs carrying every one of these tags. */
  readonly tags?: readonly string[];
  readonly datasetId?: number;
  /** Case-insensitive substring of the run name. */
  readonly search?: string;
  readonly sort?: RunSortKey;
  readonly direction?: 'asc' | 'desc';
  readonly limit?: number;
  readonly offset?: number;
}

export interface RunListPage {
  readonly rows: readonly RunListRow[];
  /** Runs matching the filters, over all pages. */
  readonly total: number;
}

/** One metric over epochs. A null value is a NaN the training produced (SQLite stores NaN as NULL). */
export interface MetricSeries {
  readonly epochs: readonly number[];
  readonly values: readonly (number | null)[];
}

/** One metric over global training steps (stored as float32, enough for charts). */
export interface StepSeries {
  readonly steps: readonly number[];
  readonly values: readonly number[];
}

export interface ArtifactRow {
  readonly id: number;
  readonly runId: number;
  /** `checkpoint`, `model`, `export`, `log`, `report`, … */
  readonly kind: string;
  readonly path: string;
  readonly sha256: string;
  readonly bytes: number;
  readonly epoch: number | null;
  readonly createdAt: number;
}

export interface NoteRow {
  readonly id: number;
  readonly runId: number;
  readonly body: string;
  readonly createdAt: number;
  readonly updatedAt: number;
}

/** What a worker process reports about a run; every one is stored as it arrives. */
export const RUN_EVENT_TYPES = ['started', 'progress', 'epoch', 'checkpoint', 'log', 'warning', 'finished', 'failed'] as const;
export type RunEventType = (typeof RUN_EVENT_TYPES)[number];

export interface RunEventRow {
  readonly runId: number;
  /** 1, 2, 3, … per run: a live view asks for the events after the last seq it has. */
  readonly seq: number;
  readonly type: RunEventType;
  readonly payload: JsonValue;
  readonly time: number;
}

export interface RunDetail {
  readonly run: RunRow;
  readonly dataset: DatasetRow | null;
  readonly metrics: { readonly [name: string]: MetricSeries };
  readonly artifacts: readonly ArtifactRow[];
  readonly tags: readonly string[];
  readonly notes: readonly NoteRow[];
  /** Seq of the newest event (0 if none): pass it to `eventsSince` to follow the run live. */
  readonly lastEventSeq: number;
}

export interface RunComparison {
  readonly runs: readonly RunRow[];
  /** metrics[name][i] is the series of runs[i] (empty when that run lacks the metric). */
  readonly metrics: { readonly [name: string]: readonly MetricSeries[] };
}
