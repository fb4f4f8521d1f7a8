import { AppError } from '../common/errors.ts';
import { RUN_EVENT_TYPES, type JsonValue, type RunEventRow, type RunEventType } from '../common/store-types.ts';
import type { Db } from './database.ts';
import { translateRunError } from './errors.ts';
import { toEvent, type EventRecord } from './rows.ts';

export interface NewEvent {
  readonly type: RunEventType;
  readonly payload?: JsonValue;
  /** When the worker sent it; default: when it is stored. */
  readonly time?: number;
}

/**
 * Worker events, stored as they arrive. One append is one prepared INSERT (an autocommit, which
 * in WAL mode with synchronous=NORMAL costs no fsync); `appendMany` batches a burst in one
 * transaction. The per-run seq is computed inside the INSERT from the (run_id, seq) index, so it
 * is gap-free and race-free (SQLite runs one writer at a time).
 */
export class EventRepository {
  readonly #db: Db;
  readonly #insert;
  readonly #since;
  readonly #lastSeq;

  constructor(db: Db) {
    this.#db = db;
    this.#insert = db.prepare<[number, string, string, number, number], number>(
      `INSERT INTO run_events (run_id, seq, type, payload, time)
       SELECT ?, coalesce(max(seq), 0) + 1, ?, ?, ? FROM run_events WHERE run_id = ? RETURNING seq`,
    );
    this.#insert.pluck();
    this.#since = db.prepare<[number, number, number], EventRecord>(
      'SELECT run_id, seq, type, payload, time FROM run_events WHERE run_id = ? AND seq > ? ORDER BY seq LIMIT ?',
    );
    this.#lastSeq = db.prepare<[number], number>('SELECT coalesce(max(seq), 0) FROM run_events WHERE run_id = ?').pluck();
  }

  /** Stores one event and returns its seq. */
  append(runId: number, event: NewEvent): number {
    checkType(runId, event.type);
    const payload = JSON.stringify(event.payload ?? null);
    try {
      return this.#insert.get(runId, event.type, payload, event.time ?? Date.now(), runId)!;
    } catch (error) {
      throw translateRunError(runId, error);
    }
  }

  /** Stores a burst of events in one transaction; returns the last seq. */
  appendMany(runId: number, events: readonly NewEvent[]): number {
    for (const event of events) checkType(runId, event.type);
    return this.#db.transaction(() => {
      let seq = this.lastSeq(runId);
      for (const event of events) seq = this.append(runId, event);
      return seq;
    })();
  }

  /** Events after `afterSeq`, oldest first: a live view polls with the last seq it has. */
  since(runId: number, afterSeq = 0, limit = 1000): RunEventRow[] {
    return this.#since.all(runId, afterSeq, limit).map(toEvent);
  }

  lastSeq(runId: number): number {
    return this.#lastSeq.get(runId) ?? 0;
  }
}

function checkType(runId: number, type: string): void {
  if (!(RUN_EVENT_TYPES as readonly string[]).includes(type)) {
    throw new AppError('event-invalid', `Run ${runId}: unknown event type '${type}'.`, { details: { known: RUN_EVENT_TYPES } });
  }
}
