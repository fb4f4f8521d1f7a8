import { AppError } from '../common/errors.ts';
import { canTransition, RESUMABLE_STATUSES, RUN_TRANSITIONS, type JsonObject, type RunRow, type RunStatus } from '../common/store-types.ts';
import type { Db } from './database.ts';
import { currentOwner, isOwnerAlive, type RunOwner } from './owner.ts';
import { toRun, type RunRecord } from './rows.ts';

export interface NewRun {
  readonly name: string;
  readonly config: JsonObject;
  readonly datasetId?: number | null;
  readonly seed?: number | null;
  readonly backend?: string | null;
  readonly device?: string | null;
}

export interface StartRun {
  readonly backend: string;
  readonly device: string;
  /** The process that trains (and whose death makes the run `interrupted`); default: this one. */
  readonly owner?: RunOwner;
}

export type FinalStatus = 'completed' | 'failed' | 'cancelled' | 'interrupted';

export class RunRepository {
  readonly #db: Db;
  readonly #insert;
  readonly #get;
  readonly #rename;
  readonly #start;
  readonly #finish;
  readonly #running;
  readonly #lastActivity;
  readonly #artifactPaths;
  readonly #delete;

  constructor(db: Db) {
    this.#db = db;
    this.#insert = db.prepare<
      [string, number | null, string, number | null, string | null, string | null, number, number | null],
      RunRecord
    >(
      `INSERT INTO runs (name, dataset_id, config, status, seed, backend, device, created_at, resumed_from)
       VALUES (?, ?, ?, 'queued', ?, ?, ?, ?, ?) RETURNING *`,
    );
    this.#get = db.prepare<[number], RunRecord>('SELECT * FROM runs WHERE id = ?');
    this.#rename = db.prepare<[string, number]>('UPDATE runs SET name = ? WHERE id = ?');
    // Compare-and-set on the status: of two processes racing, the second sees 0 changes.
    this.#start = db.prepare<[string, string, number, number, string, string, number]>(
      `UPDATE runs SET status = 'running', backend = ?, device = ?, started_at = ?, owner_pid = ?, owner_host = ?, owner_boot = ?
       WHERE id = ? AND status = 'queued'`,
    );
    this.#finish = db.prepare<[RunStatus, string | null, number, number, RunStatus]>(
      'UPDATE runs SET status = ?, status_message = ?, finished_at = ? WHERE id = ? AND status = ?',
    );
    this.#running = db.prepare<[], RunRecord>("SELECT * FROM runs WHERE status = 'running'");
    this.#lastActivity = db.prepare<[number], number | null>('SELECT max(time) FROM run_events WHERE run_id = ?').pluck();
    this.#artifactPaths = db.prepare<[number], string>('SELECT path FROM artifacts WHERE run_id = ? ORDER BY id').pluck();
    this.#delete = db.prepare<[number]>('DELETE FROM runs WHERE id = ?');
  }

  /** A new run starts `queued`. */
  create(input: NewRun, now: number = Date.now()): RunRow {
    return this.#create(input, null, now);
  }

  get(id: number): RunRow | undefined {
    const record = this.#get.get(id);
    return record && toRun(record);
  }

  require(id: number): RunRow {
    const run = this.get(id);
    if (!run) throw new AppError('run-not-found', `There is no run ${id}.`, { hint: 'It may have been deleted; refresh the runs list.' });
    return run;
  }

  rename(id: number, name: string): RunRow {
    this.#rename.run(checkName(name), this.require(id).id);
    return this.require(id);
  }

  /** queued → running, recording the backend, device and owning process. */
  start(id: number, options: StartRun, now: number = Date.now()): RunRow {
    const owner = options.owner ?? currentOwner();
    const changed = this.#start.run(options.backend, options.device, now, owner.pid, owner.host, owner.boot, id).changes;
    if (changed === 0) throw transitionError(this.require(id), 'running');
    return this.require(id);
  }

  /** running (or queued) → a final status; `message` says why it failed, was cancelled or interrupted. */
  finish(id: number, status: FinalStatus, message: string | null = null, now: number = Date.now()): RunRow {
    const run = this.require(id);
    if (!canTransition(run.status, status)) throw transitionError(run, status);
    if (this.#finish.run(status, message, now, id, run.status).changes === 0) throw transitionError(this.require(id), status);
    return this.require(id);
  }

  /**
   * Continues an interrupted, cancelled or failed run as a new queued run linked by `resumedFrom`,
   * with the same dataset, seed and config (the caller passes what changes, e.g. more epochs).
   */
  resume(fromId: number, changes: Partial<NewRun> = {}, now: number = Date.now()): RunRow {
    const from = this.require(fromId);
    if (!RESUMABLE_STATUSES.includes(from.status)) {
      throw new AppError(
        'run-not-resumable',
        `Run ${from.id} (${from.name}) is ${from.status}; only ${RESUMABLE_STATUSES.join(', ')} runs can be resumed.`,
        {
          hint: from.status === 'completed' ? 'Start a new run from its checkpoint instead.' : 'Wait until it stops, or cancel it first.',
        },
      );
    }
    const input: NewRun = {
      name: changes.name ?? `${from.name} (resumed)`,
      config: changes.config ?? from.config,
      datasetId: changes.datasetId === undefined ? from.datasetId : changes.datasetId,
      seed: changes.seed === undefined ? from.seed : changes.seed,
      backend: changes.backend === undefined ? from.backend : changes.backend,
      device: changes.device === undefined ? from.device : changes.device,
    };
    return this.#create(input, from.id, now);
  }

  /**
   * At start: runs left `running` by a process that is gone become `interrupted`. Runs of a live
   * owner (another window, the CLI) are left alone. Their finish time is their last event, so the
   * duration does not count the time the app was closed. Returns the ids marked.
   */
  markStaleRunsInterrupted(reason: string, current: RunOwner = currentOwner(), now: number = Date.now()): number[] {
    const mark = this.#db.transaction(() => {
      const marked: number[] = [];
      for (const record of this.#running.all()) {
        if (isOwnerAlive({ pid: record.owner_pid, boot: record.owner_boot }, current)) continue;
        const lastEvent = this.#lastActivity.get(record.id) ?? null;
        const finishedAt = Math.min(now, Math.max(record.started_at ?? 0, lastEvent ?? record.started_at ?? now));
        if (this.#finish.run('interrupted', reason, finishedAt, record.id, 'running').changes > 0) marked.push(record.id);
      }
      return marked;
    });
    return mark.immediate();
  }

  /**
   * Deletes a run with its metrics, events, artifacts rows, tags and notes (ON DELETE CASCADE);
   * runs resumed from it keep existing with `resumedFrom` null. Returns the artifact files, which
   * the caller deletes (files are not the database's to remove, and a failed delete must not
   * roll back the rows). A running run cannot be deleted.
   */
  delete(id: number): { artifactPaths: string[] } {
    const remove = this.#db.transaction(() => {
      const run = this.require(id);
      if (run.status === 'running') {
        throw new AppError('run-active', `Run ${run.id} (${run.name}) is still running.`, { hint: 'Cancel it first, then delete it.' });
      }
      const artifactPaths = this.#artifactPaths.all(id);
      this.#delete.run(id);
      return { artifactPaths };
    });
    return remove.immediate();
  }

  #create(input: NewRun, resumedFrom: number | null, now: number): RunRow {
    const record = this.#insert.get(
      checkName(input.name),
      input.datasetId ?? null,
      JSON.stringify(input.config),
      input.seed ?? null,
      input.backend ?? null,
      input.device ?? null,
      now,
      resumedFrom,
    )!;
    return toRun(record);
  }
}

function checkName(name: string): string {
  const trimmed = name.trim();
  if (trimmed === '') throw new AppError('run-invalid', 'A run needs a name.', { hint: 'Type a name for the run.' });
  if (trimmed.length > 200) throw new AppError('run-invalid', `The run name is ${trimmed.length} characters; at most 200 fit.`);
  return trimmed;
}

function transitionError(run: RunRow, to: RunStatus): AppError {
  const allowed = RUN_TRANSITIONS[run.status];
  return new AppError('run-status', `Run ${run.id} (${run.name}) is ${run.status}; it cannot become ${to}.`, {
    hint:
      allowed.length === 0
        ? 'It has finished; resume it as a new run or start a new one.'
        : `From ${run.status} it can become ${allowed.join(', ')}.`,
    details: { id: run.id, from: run.status, to },
  });
}
