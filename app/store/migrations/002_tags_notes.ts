import type { Migration } from './types.ts';

/** Tags (many-to-many with runs, names unique ignoring case) and free-text notes on runs. */
export const tagsAndNotes: Migration = {
  name: 'tags and notes',
  sql: `
    CREATE TABLE tags (
      id INTEGER PRIMARY KEY,
      name TEXT NOT NULL UNIQUE COLLATE NOCASE
    );

    CREATE TABLE run_tags (
      run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
      tag_id INTEGER NOT NULL REFERENCES tags(id) ON DELETE CASCADE,
      PRIMARY KEY (run_id, tag_id)
    ) WITHOUT ROWID;
    -- The tag filter goes from tag to runs.
    CREATE INDEX run_tags_tag ON run_tags(tag_id, run_id);

    CREATE TABLE notes (
      id INTEGER PRIMARY KEY,
      run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
      body TEXT NOT NULL,
      created_at INTEGER NOT NULL,
      updated_at INTEGER NOT NULL
    );
    CREATE INDEX notes_run ON notes(run_id);
  `,
};
