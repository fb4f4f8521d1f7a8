import type { Migration } from './types.ts';

/**
 * The runs list sorts 1,000s of runs by best validation accuracy: keep the summary on the run row
 * (maintained in the same transaction as each epoch's metrics) instead of aggregating the metrics
 * table per list query. Existing runs are backfilled from their metrics. This SQL is frozen
 * history: the live version of the summary lives in app/store/metrics.ts.
 */
export const runSummary: Migration = {
  name: 'run summary columns',
  sql: `
    ALTER TABLE runs ADD COLUMN epochs_done INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE runs ADD COLUMN best_val_accuracy REAL;
    ALTER TABLE runs ADD COLUMN best_epoch INTEGER;
    ALTER TABLE runs ADD COLUMN final_val_accuracy REAL;

    UPDATE runs SET
      epochs_done = coalesce((SELECT max(epoch) FROM metrics m WHERE m.run_id = runs.id), 0),
      best_val_accuracy = (SELECT max(value) FROM metrics m WHERE m.run_id = runs.id AND m.name = 'val_accuracy'),
      best_epoch = (
        SELECT epoch FROM metrics m WHERE m.run_id = runs.id AND m.name = 'val_accuracy' AND m.value IS NOT NULL
        ORDER BY m.value DESC, m.epoch ASC LIMIT 1
      ),
      final_val_accuracy = (
        SELECT value FROM metrics m WHERE m.run_id = runs.id AND m.name = 'val_accuracy' ORDER BY m.epoch DESC LIMIT 1
      );

    CREATE INDEX runs_best_val_accuracy ON runs(best_val_accuracy);
    CREATE INDEX runs_final_val_accuracy ON runs(final_val_accuracy);
  `,
};
