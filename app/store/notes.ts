import { AppError } from '../common/errors.ts';
import type { NoteRow } from '../common/store-types.ts';
import type { Db } from './database.ts';
import { translateRunError } from './errors.ts';
import { toNote, type NoteRecord } from './rows.ts';

/** Free-text notes on a run, oldest first. */
export class NoteRepository {
  readonly #insert;
  readonly #update;
  readonly #remove;
  readonly #forRun;

  constructor(db: Db) {
    this.#insert = db.prepare<[number, string, number, number], NoteRecord>(
      'INSERT INTO notes (run_id, body, created_at, updated_at) VALUES (?, ?, ?, ?) RETURNING *',
    );
    this.#update = db.prepare<[string, number, number], NoteRecord>('UPDATE notes SET body = ?, updated_at = ? WHERE id = ? RETURNING *');
    this.#remove = db.prepare<[number]>('DELETE FROM notes WHERE id = ?');
    this.#forRun = db.prepare<[number], NoteRecord>('SELECT * FROM notes WHERE run_id = ? ORDER BY created_at, id');
  }

  add(runId: number, body: string, now: number = Date.now()): NoteRow {
    try {
      return toNote(this.#insert.get(runId, checkBody(body), now, now)!);
    } catch (error) {
      throw translateRunError(runId, error);
    }
  }

  update(id: number, body: string, now: number = Date.now()): NoteRow {
    const record = this.#update.get(checkBody(body), now, id);
    if (!record) throw new AppError('note-not-found', `There is no note ${id}.`, { hint: 'It may have been deleted; refresh the run.' });
    return toNote(record);
  }

  remove(id: number): boolean {
    return this.#remove.run(id).changes > 0;
  }

  forRun(runId: number): NoteRow[] {
    return this.#forRun.all(runId).map(toNote);
  }
}

function checkBody(body: string): string {
  if (body.trim() === '') throw new AppError('note-invalid', 'A note cannot be empty.', { hint: 'Type some text, or delete the note.' });
  return body;
}
