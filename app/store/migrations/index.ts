import type { Migration } from './types.ts';
import { initial } from './001_initial.ts';
import { tagsAndNotes } from './002_tags_notes.ts';
import { events } from './003_events.ts';
import { runSummary } from './004_run_summary.ts';

export type { Migration } from './types.ts';

/** The schema's history: MIGRATIONS[i] takes a database from `PRAGMA user_version` i to i + 1. */
export const MIGRATIONS: readonly Migration[] = [initial, tagsAndNotes, events, runSummary];

/** The schema version this build of the app writes. */
export const SCHEMA_VERSION = MIGRATIONS.length;
