import { AppError } from '../common/errors.ts';
import type { ArtifactRow } from '../common/store-types.ts';
import type { Db } from './database.ts';
import { translateRunError } from './errors.ts';
import { toArtifact, type ArtifactRecord } from './rows.ts';

export interface NewArtifact {
  readonly kind: string;
  readonly path: string;
  readonly sha256: string;
  readonly bytes: number;
  readonly epoch?: number | null;
}

/** Files a run produced. Writing the same path again (a checkpoint overwritten) updates its row. */
export class ArtifactRepository {
  readonly #upsert;
  readonly #list;
  readonly #remove;

  constructor(db: Db) {
    this.#upsert = db.prepare<[number, string, string, string, number, number | null, number], ArtifactRecord>(
      `INSERT INTO artifacts (run_id, kind, path, sha256, bytes, epoch, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (run_id, path) DO UPDATE SET
         kind = excluded.kind, sha256 = excluded.sha256, bytes = excluded.bytes, epoch = excluded.epoch, created_at = excluded.created_at
       RETURNING *`,
    );
    this.#list = db.prepare<[number], ArtifactRecord>('SELECT * FROM artifacts WHERE run_id = ? ORDER BY created_at, id');
    this.#remove = db.prepare<[number], { path: string }>('DELETE FROM artifacts WHERE id = ? RETURNING path');
  }

  add(runId: number, artifact: NewArtifact, now: number = Date.now()): ArtifactRow {
    if (artifact.kind.trim() === '' || artifact.path.trim() === '') {
      throw new AppError('artifact-invalid', `Run ${runId}: an artifact needs a kind and a path.`, { details: artifact });
    }
    if (!/^[0-9a-f]{64}$/.test(artifact.sha256)) {
      throw new AppError('artifact-invalid', `Run ${runId}: ${artifact.path} has a malformed sha256 '${artifact.sha256}'.`, {
        hint: 'Pass the lowercase hex SHA-256 of the file.',
      });
    }
    if (!Number.isSafeInteger(artifact.bytes) || artifact.bytes < 0) {
      throw new AppError('artifact-invalid', `Run ${runId}: ${artifact.path} has an invalid size ${artifact.bytes}.`);
    }
    try {
      return toArtifact(
        this.#upsert.get(runId, artifact.kind, artifact.path, artifact.sha256, artifact.bytes, artifact.epoch ?? null, now)!,
      );
    } catch (error) {
      throw translateRunError(runId, error);
    }
  }

  list(runId: number): ArtifactRow[] {
    return this.#list.all(runId).map(toArtifact);
  }

  /** Forgets one artifact; returns its path (the caller deletes the file) or undefined if unknown. */
  remove(id: number): string | undefined {
    return this.#remove.get(id)?.path;
  }
}
