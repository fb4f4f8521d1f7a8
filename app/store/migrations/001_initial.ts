import type { Migration } from './types.ts';

/**
 * Datasets, runs, epoch metrics and artifacts. Times are integer milliseconds since the epoch;
 * JSON columns are checked with json_valid so a bad write fails loudly instead of poisoning reads.
 */
export const initial: Migration = {
  name: 'initial',
  sql: `
    CREATE TABLE datasets (
      id INTEGER PRIMARY KEY,
      path TEXT NOT NULL,
      fingerprint TEXT NOT NULL,
      name TEXT NOT NULL,
      classes TEXT NOT NULL CHECK (json_valid(classes)),
      split TEXT NOT NULL CHECK (json_valid(split)),
      created_at INTEGER NOT NULL,
      last_used_at INTEGER NOT NULL,
      UNIQUE (path, fingerprint)
    );

    CREATE TABLE runs (
      id INTEGER PRIMARY KEY,
      name TEXT NOT NULL,
      dataset_id INTEGER REFERENCES datasets(id) ON DELETE SET NULL,
      config TEXT NOT NULL CHECK (json_valid(config)),
      status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'completed', 'failed', 'cancelled', 'interrupted')),
      status_message TEXT,
      backend TEXT,
      device TEXT,
      seed INTEGER,
      created_at INTEGER NOT NULL,
      started_at INTEGER,
      finished_at INTEGER,
      resumed_from INTEGER REFERENCES runs(id) ON DELETE SET NULL,
      owner_pid INTEGER,
      owner_host TEXT,
      owner_boot TEXT
    );
    CREATE INDEX runs_created ON runs(created_at);
    CREATE INDEX runs_status ON runs(status);
    CREATE INDEX runs_dataset ON runs(dataset_id);
    -- Foreign-key actions look rows up by the child column: without this, deleting a run scans all runs.
    CREATE INDEX runs_resumed_from ON runs(resumed_from);

    -- One row per (run, metric, epoch); the primary key is the clustered order a chart reads in.
    -- value is NULL when training produced NaN (SQLite stores NaN as NULL).
    CREATE TABLE metrics (
      run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
      name TEXT NOT NULL,
      epoch INTEGER NOT NULL,
      value REAL,
      PRIMARY KEY (run_id, name, epoch)
    ) WITHOUT ROWID;

    CREATE TABLE artifacts (
      id INTEGER PRIMARY KEY,
      run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
      kind TEXT NOT NULL,
      path TEXT NOT NULL,
      sha256 TEXT NOT NULL,
      bytes INTEGER NOT NULL,
      epoch INTEGER,
      created_at INTEGER NOT NULL,
      UNIQUE (run_id, path)
    );
  `,
};
