/**
 * Opening the experiment database: pragmas, recognising our files, and the migration runner.
 *
 * Crash safety comes from SQLite itself: WAL mode plus one transaction per logical write means a
 * process killed at any moment leaves every committed transaction in place and none half-written.
 * synchronous=NORMAL skips the fsync per commit (https://www.sqlite.org/pragma.html#pragma_synchronous):
 * a power cut may roll back the last few commits, but never corrupts the file.
 */
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { AppError } from '../common/errors.ts';
import { MIGRATIONS, type Migration } from './migrations/index.ts';

export type Db = Database.Database;

/** `PRAGMA application_id` of our files ('EfNS'), so another program's SQLite file is never migrated. */
export const APPLICATION_ID = 0x45664e53;

export interface OpenOptions {
  /** Migrate up to this schema version only (tests build older databases with it). Default: the latest. */
  readonly targetVersion?: number;
  /** The schema history to apply; only tests of the runner pass their own. */
  readonly migrations?: readonly Migration[];
  /** How long a write waits for another process's write to finish. */
  readonly busyTimeoutMs?: number;
}

/** Opens (creating if needed) and migrates the database at `file`; `:memory:` works too. */
export function openDatabase(file: string, options: OpenOptions = {}): Db {
  const migrations = options.migrations ?? MIGRATIONS;
  const target = options.targetVersion ?? migrations.length;
  const busyTimeoutMs = options.busyTimeoutMs ?? 5000;
  let db: Db;
  try {
    if (file !== ':memory:') mkdirSync(path.dirname(file), { recursive: true });
    db = new Database(file, { timeout: busyTimeoutMs });
  } catch (error) {
    throw translateOpenError(file, error);
  }
  try {
    // Checks first, so a file that is not ours (or too new) is refused without a byte changed;
    // the first statement reads the header, which is where a file that is not SQLite fails.
    checkOwnership(db, file);
    checkVersion(db, file, migrations.length);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    migrate(db, file, migrations, target);
    db.pragma('foreign_keys = ON');
    return db;
  } catch (error) {
    db.close();
    throw translateOpenError(file, error);
  }
}

export function schemaVersion(db: Db): number {
  return db.pragma('user_version', { simple: true }) as number;
}

/** `PRAGMA integrity_check`: 'ok', or SQLite's list of problems joined by newlines. */
export function integrityCheck(db: Db): string {
  const rows = db.pragma('integrity_check') as { integrity_check: string }[];
  return rows.map((row) => row.integrity_check).join('\n');
}

/** A SQLite file of another program (tables but not our application id) is left alone. */
function checkOwnership(db: Db, file: string): void {
  const applicationId = db.pragma('application_id', { simple: true }) as number;
  if (applicationId === APPLICATION_ID) return;
  const tables = db.prepare("SELECT count(*) FROM sqlite_schema WHERE name NOT LIKE 'sqlite_%'").pluck().get() as number;
  if (applicationId === 0 && tables === 0) return; // a new, empty file: ours from now on
  throw new AppError('store-foreign', `${file} is a SQLite database, but not one of EffNet Studio's.`, {
    hint: 'Point EFFNET_HOME at another folder, or move that file away so the app can create its own database.',
    details: { file, applicationId },
  });
}

/** A database from a newer app is refused, never downgraded or half-read. */
function checkVersion(db: Db, file: string, known: number): void {
  const found = schemaVersion(db);
  if (found > known) {
    throw new AppError(
      'store-too-new',
      `${file} was written by a newer EffNet Studio (schema version ${found}; this version knows up to ${known}).`,
      { hint: 'Update EffNet Studio to open it, or set EFFNET_HOME to another folder.', details: { file, found, known } },
    );
  }
}

/**
 * Applies migrations[version..target-1], each in its own IMMEDIATE transaction that also bumps
 * user_version, so a failure (or a crash) leaves the database at the last version that finished.
 * The version is re-read inside the transaction: two processes starting at once migrate once.
 */
function migrate(db: Db, file: string, migrations: readonly Migration[], target: number): void {
  const found = schemaVersion(db);
  // SQLite's recipe for schema changes: foreign keys off, change, foreign_key_check, commit.
  // (https://www.sqlite.org/lang_altertable.html#otheralter) — the pragma is a no-op inside a transaction.
  db.pragma('foreign_keys = OFF');
  for (let version = found; version < target; version++) {
    const migration = migrations[version]!;
    const step = db.transaction(() => {
      if (schemaVersion(db) > version) return;
      db.exec(migration.sql);
      const problems = db.pragma('foreign_key_check') as unknown[];
      if (problems.length > 0) throw new Error(`${problems.length} rows break foreign keys: ${JSON.stringify(problems.slice(0, 3))}`);
      if (version === 0) db.pragma(`application_id = ${APPLICATION_ID}`);
      db.pragma(`user_version = ${version + 1}`);
    });
    try {
      step.immediate();
    } catch (error) {
      if (error instanceof AppError || isUnreadable(error)) throw error;
      throw new AppError(
        'store-migration-failed',
        `Upgrading ${file} to schema version ${version + 1} (${migration.name}) failed: ${messageOf(error)}`,
        { hint: `The database was left unchanged at version ${version}. Please report this with a copy of the file.`, cause: error },
      );
    }
  }
}

function sqliteCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

function isUnreadable(error: unknown): boolean {
  const code = sqliteCode(error) ?? '';
  return code === 'SQLITE_NOTADB' || code.startsWith('SQLITE_CORRUPT');
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function translateOpenError(file: string, error: unknown): unknown {
  if (error instanceof AppError) return error;
  const code = sqliteCode(error) ?? '';
  if (isUnreadable(error)) {
    return new AppError('store-unreadable', `${file} is not a readable EffNet Studio database (${messageOf(error)}).`, {
      hint: 'Move the file away (the app then starts a new, empty database) or restore it from a backup.',
      details: { file, code },
      cause: error,
    });
  }
  if (code === 'SQLITE_CANTOPEN' || code === 'SQLITE_PERM' || code === 'SQLITE_READONLY' || code === 'EACCES' || code === 'ENOTDIR') {
    return new AppError('store-unwritable', `Cannot open ${file} for writing (${messageOf(error)}).`, {
      hint: 'Check that the folder exists and that you may write to it, or set EFFNET_HOME to another folder.',
      details: { file, code },
      cause: error,
    });
  }
  if (code === 'SQLITE_BUSY') {
    return new AppError('store-busy', `${file} stayed locked by another process (${messageOf(error)}).`, {
      hint: 'Close other EffNet Studio windows or CLI commands using this data folder, then try again.',
      details: { file, code },
      cause: error,
    });
  }
  return error;
}
