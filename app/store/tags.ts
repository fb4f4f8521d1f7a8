import { AppError } from '../common/errors.ts';
import type { Db } from './database.ts';
import { translateRunError } from './errors.ts';

export interface TagCount {
  readonly name: string;
  readonly runs: number;
}

/** Tags are names unique ignoring case ("Baseline" and "baseline" are one tag); runs have many. */
export class TagRepository {
  readonly #db: Db;
  readonly #ensure;
  readonly #find;
  readonly #link;
  readonly #unlink;
  readonly #forRun;
  readonly #counts;
  readonly #prune;

  constructor(db: Db) {
    this.#db = db;
    this.#ensure = db.prepare<[string]>('INSERT INTO tags (name) VALUES (?) ON CONFLICT (name) DO NOTHING');
    this.#find = db.prepare<[string], number>('SELECT id FROM tags WHERE name = ?').pluck();
    this.#link = db.prepare<[number, number]>('INSERT OR IGNORE INTO run_tags (run_id, tag_id) VALUES (?, ?)');
    this.#unlink = db.prepare<[number, string]>('DELETE FROM run_tags WHERE run_id = ? AND tag_id = (SELECT id FROM tags WHERE name = ?)');
    this.#forRun = db
      .prepare<[number], string>('SELECT t.name FROM run_tags rt JOIN tags t ON t.id = rt.tag_id WHERE rt.run_id = ? ORDER BY t.name')
      .pluck();
    this.#counts = db.prepare<[], TagCount>(
      'SELECT t.name, count(rt.run_id) AS runs FROM tags t LEFT JOIN run_tags rt ON rt.tag_id = t.id GROUP BY t.id ORDER BY t.name',
    );
    this.#prune = db.prepare('DELETE FROM tags WHERE id NOT IN (SELECT tag_id FROM run_tags)');
  }

  add(runId: number, names: readonly string[]): void {
    const cleaned = names.map(checkTag);
    try {
      this.#db.transaction(() => {
        for (const name of cleaned) {
          this.#ensure.run(name);
          this.#link.run(runId, this.#find.get(name)!);
        }
      })();
    } catch (error) {
      throw translateRunError(runId, error);
    }
  }

  /** Removes tags from a run; a tag no run carries any more is forgotten. */
  remove(runId: number, names: readonly string[]): void {
    this.#db.transaction(() => {
      for (const name of names) this.#unlink.run(runId, name.trim());
      this.#prune.run();
    })();
  }

  forRun(runId: number): string[] {
    return this.#forRun.all(runId);
  }

  /** Every tag with how many runs carry it (for the filter menu). */
  all(): TagCount[] {
    return this.#counts.all();
  }
}

function checkTag(name: string): string {
  const trimmed = name.trim();
  if (trimmed === '' || trimmed.length > 64) {
    throw new AppError('tag-invalid', `Tag '${name}' must be 1 to 64 characters.`, { hint: 'Use a short word such as "baseline".' });
  }
  return trimmed;
}
