import path from 'node:path';
import { AppError } from '../common/errors.ts';
import type { DatasetRow, DatasetSplit } from '../common/store-types.ts';
import type { Db } from './database.ts';
import { toDataset, type DatasetRecord } from './rows.ts';

export interface DatasetInput {
  readonly path: string;
  readonly fingerprint: string;
  /** Defaults to the folder's name. */
  readonly name?: string;
  readonly classes: readonly string[];
  readonly split: DatasetSplit;
}

/**
 * Datasets are keyed by (path, fingerprint): training on a folder whose contents changed makes a
 * new dataset row, so older runs keep pointing at the data they were trained on.
 */
export class DatasetRepository {
  readonly #upsert;
  readonly #get;
  readonly #list;

  constructor(db: Db) {
    this.#upsert = db.prepare<[string, string, string, string, string, number, number], DatasetRecord>(
      `INSERT INTO datasets (path, fingerprint, name, classes, split, created_at, last_used_at) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (path, fingerprint) DO UPDATE SET
         name = excluded.name, classes = excluded.classes, split = excluded.split, last_used_at = excluded.last_used_at
       RETURNING *`,
    );
    this.#get = db.prepare<[number], DatasetRecord>('SELECT * FROM datasets WHERE id = ?');
    this.#list = db.prepare<[], DatasetRecord>('SELECT * FROM datasets ORDER BY last_used_at DESC, id DESC');
  }

  upsert(input: DatasetInput, now: number = Date.now()): DatasetRow {
    if (input.path.trim() === '') throw new AppError('dataset-invalid', 'A dataset needs a path.');
    if (input.fingerprint.trim() === '') throw new AppError('dataset-invalid', `Dataset ${input.path} has an empty fingerprint.`);
    if (!input.classes.every((name) => typeof name === 'string' && name !== '')) {
      throw new AppError('dataset-invalid', `Dataset ${input.path} has an empty or non-text class name.`, { details: input.classes });
    }
    const name = input.name?.trim() || path.basename(input.path);
    const record = this.#upsert.get(
      input.path,
      input.fingerprint,
      name,
      JSON.stringify(input.classes),
      JSON.stringify(input.split),
      now,
      now,
    )!;
    return toDataset(record);
  }

  get(id: number): DatasetRow | undefined {
    const record = this.#get.get(id);
    return record && toDataset(record);
  }

  /** Most recently used first. */
  list(): DatasetRow[] {
    return this.#list.all().map(toDataset);
  }
}
