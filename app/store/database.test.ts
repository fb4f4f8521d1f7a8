import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { AppError } from '../common/errors.ts';
import { APPLICATION_ID, openDatabase, schemaVersion } from './database.ts';
import { MIGRATIONS, SCHEMA_VERSION } from './migrations/index.ts';
import { openAppStore, openStore } from './store.ts';
import { dataPaths } from '../node/paths.ts';
import { temporaryFolder } from './test-support.ts';

test('a new database is in WAL mode with foreign keys on, NORMAL sync and the latest schema', (t) => {
  const temp = temporaryFolder();
  t.after(temp.remove);
  const db = openDatabase(temp.file('nested/folder/effnet.sqlite'));
  t.after(() => db.close());
  assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
  assert.equal(db.pragma('foreign_keys', { simple: true }), 1);
  assert.equal(db.pragma('synchronous', { simple: true }), 1); // NORMAL
  assert.equal(db.pragma('busy_timeout', { simple: true }), 5000);
  assert.equal(db.pragma('application_id', { simple: true }), APPLICATION_ID);
  assert.equal(schemaVersion(db), SCHEMA_VERSION);
});

test('reopening an up-to-date database keeps its data and runs no migration again', (t) => {
  const temp = temporaryFolder();
  t.after(temp.remove);
  const first = openStore(temp.file('effnet.sqlite'));
  const run = first.runs.create({ name: 'kept', config: { epochs: 3 } });
  first.close();
  const second = openStore(temp.file('effnet.sqlite'));
  t.after(() => second.close());
  assert.equal(second.runs.require(run.id).name, 'kept');
  assert.equal(second.schemaVersion(), SCHEMA_VERSION);
});

interface BadFileCase {
  readonly name: string;
  readonly make: (file: string) => void;
  readonly code: string;
  readonly message: RegExp;
  /** The app must refuse these without changing a byte. */
  readonly untouched: boolean;
}

function validDatabase(file: string): Buffer {
  const db = new Database(file);
  db.exec('CREATE TABLE t (x); INSERT INTO t VALUES (randomblob(50000));');
  db.close();
  return readFileSync(file);
}

const badFiles: BadFileCase[] = [
  {
    name: 'a text file',
    make: (file) => writeFileSync(file, 'these are my notes, not a database\n'.repeat(200)),
    code: 'store-unreadable',
    message: /is not a readable EffNet Studio database/,
    untouched: true,
  },
  {
    name: 'random bytes',
    make: (file) => writeFileSync(file, Buffer.from(Array.from({ length: 8192 }, (_, i) => (i * 7919 + 13) % 251))),
    code: 'store-unreadable',
    message: /is not a readable EffNet Studio database/,
    untouched: true,
  },
  {
    name: 'a SQLite file cut short',
    make: (file) => writeFileSync(file, validDatabase(file).subarray(0, 4096 * 3)),
    code: 'store-unreadable',
    message: /malformed/,
    untouched: true,
  },
  {
    name: "another program's SQLite database",
    make: (file) => {
      const db = new Database(file);
      db.exec('CREATE TABLE photos (id INTEGER PRIMARY KEY, path TEXT)');
      db.close();
    },
    code: 'store-foreign',
    message: /is a SQLite database, but not one of EffNet Studio's/,
    untouched: true,
  },
  {
    name: 'a database from a newer EffNet Studio',
    make: (file) => {
      openDatabase(file).close();
      const db = new Database(file);
      db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
      db.close();
    },
    code: 'store-too-new',
    message: new RegExp(`newer EffNet Studio \\(schema version ${SCHEMA_VERSION + 1}; this version knows up to ${SCHEMA_VERSION}\\)`),
    untouched: true,
  },
  {
    name: 'a folder where the file should be',
    make: (file) => mkdirSync(file),
    code: 'store-unwritable',
    message: /Cannot open .* for writing/,
    untouched: false,
  },
];

for (const bad of badFiles) {
  test(`opening ${bad.name} fails with ${bad.code}, naming the file`, (t) => {
    const temp = temporaryFolder();
    t.after(temp.remove);
    const file = temp.file('effnet.sqlite');
    bad.make(file);
    const before = bad.untouched ? readFileSync(file) : undefined;
    assert.throws(
      () => openDatabase(file),
      (error: unknown) => {
        assert.ok(error instanceof AppError, `expected AppError, got ${String(error)}`);
        assert.equal(error.code, bad.code);
        assert.match(error.message, bad.message);
        assert.ok(error.message.includes(file), `message names the file: ${error.message}`);
        assert.ok(error.hint, 'says what to do');
        return true;
      },
    );
    if (before) assert.deepEqual(readFileSync(file), before, 'the file was not modified');
  });
}

test('a failing migration rolls back whole and leaves the version where it was', (t) => {
  const temp = temporaryFolder();
  t.after(temp.remove);
  const file = temp.file('effnet.sqlite');
  const migrations = [
    { name: 'first', sql: 'CREATE TABLE a (x INTEGER);' },
    { name: 'broken second', sql: 'CREATE TABLE b (x INTEGER); INSERT INTO a VALUES (1); SELECT * FROM missing_table;' },
  ];
  assert.throws(
    () => openDatabase(file, { migrations }),
    (error: unknown) =>
      error instanceof AppError && error.code === 'store-migration-failed' && /version 2 \(broken second\)/.test(error.message),
  );
  const db = new Database(file);
  t.after(() => db.close());
  assert.equal(schemaVersion(db), 1);
  assert.equal(db.prepare('SELECT count(*) FROM a').pluck().get(), 0, 'the insert of the failed step is gone');
  assert.equal(db.prepare("SELECT count(*) FROM sqlite_schema WHERE name = 'b'").pluck().get(), 0, 'and so is its table');
});

test('a migration that leaves rows breaking foreign keys is refused', (t) => {
  const temp = temporaryFolder();
  t.after(temp.remove);
  const migrations = [
    { name: 'parents', sql: 'CREATE TABLE parent (id INTEGER PRIMARY KEY); CREATE TABLE child (parent_id INTEGER REFERENCES parent(id));' },
    { name: 'orphans', sql: 'INSERT INTO child VALUES (42);' },
  ];
  assert.throws(() => openDatabase(temp.file('x.sqlite'), { migrations }), /break foreign keys/);
});

test('when another process migrates between our version check and our transaction, we skip what it did', (t) => {
  const temp = temporaryFolder();
  t.after(temp.remove);
  const file = temp.file('effnet.sqlite');
  let raced = false;
  // The runner reads migrations[0] after it has read version 0 and before it locks: the other
  // "process" (a second connection) upgrades the file right then.
  const migrations = new Proxy(MIGRATIONS, {
    get(target, key, receiver) {
      if (key === '0' && !raced) {
        raced = true;
        openDatabase(file).close();
      }
      return Reflect.get(target, key, receiver);
    },
  });
  const db = openDatabase(file, { migrations });
  t.after(() => db.close());
  assert.ok(raced, 'the race happened');
  assert.equal(schemaVersion(db), SCHEMA_VERSION);
});

test('the app store lives at dataPaths().database under EFFNET_HOME and marks dead runs interrupted', (t) => {
  const temp = temporaryFolder();
  t.after(temp.remove);
  const env = { EFFNET_HOME: temp.file('home') };
  const first = openAppStore(env);
  assert.equal(first.store.file, dataPaths(env).database);
  const run = first.store.runs.create({ name: 'left running', config: {} });
  first.store.runs.start(run.id, { backend: 'cpu', device: 'cpu', owner: { pid: process.pid, host: 'h', boot: 'a boot long ago' } });
  assert.deepEqual(first.interrupted, []);
  first.store.close();

  const second = openAppStore(env);
  t.after(() => second.store.close());
  assert.deepEqual(second.interrupted, [run.id]);
  assert.equal(second.store.runs.require(run.id).status, 'interrupted');
});
