import type { Migration } from './types.ts';

/**
 * Worker events as they arrive, and per-step metrics. Step metrics are frequent (one point per
 * batch), so they are stored in chunks: one row holds up to 128 points of one metric as packed
 * little-endian uint32 steps and float32 values, about 8 bytes a point instead of ~30 for a row.
 */
export const events: Migration = {
  name: 'events and step metrics',
  sql: `
    CREATE TABLE run_events (
      id INTEGER PRIMARY KEY,
      run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
      seq INTEGER NOT NULL,
      type TEXT NOT NULL,
      payload TEXT NOT NULL CHECK (json_valid(payload)),
      time INTEGER NOT NULL,
      UNIQUE (run_id, seq)
    );

    CREATE TABLE step_metrics (
      id INTEGER PRIMARY KEY,
      run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
      name TEXT NOT NULL,
      chunk INTEGER NOT NULL,
      first_step INTEGER NOT NULL,
      last_step INTEGER NOT NULL,
      count INTEGER NOT NULL,
      steps BLOB NOT NULL,
      vals BLOB NOT NULL,
      UNIQUE (run_id, name, chunk)
    );
  `,
};
