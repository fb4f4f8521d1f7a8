import { AppError } from '../common/errors.ts';

/** A write for a run id that does not exist fails SQLite's foreign key: say so in the user's terms. */
export function translateRunError(runId: number, error: unknown): unknown {
  if ((error as { code?: unknown } | null)?.code === 'SQLITE_CONSTRAINT_FOREIGNKEY') {
    return new AppError('run-not-found', `There is no run ${runId}.`, {
      hint: 'It may have been deleted; refresh the runs list.',
      cause: error,
    });
  }
  return error;
}
