/**
 * Every migration is tested from a database at the previous version holding data: the data must
 * survive and the new schema must work. A new migration needs a new row in `cases` (the first
 * test fails until it has one).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openDatabase, schemaVersion, type Db } from '../database.ts';
import { openStore } from '../store.ts';
import { temporaryFolder } from '../test-support.ts';
import { MIGRATIONS } from './index.ts';

interface MigrationCase {
  /** Data written with the schema of version `to - 1`, in that version's SQL. */
  readonly seed: (db: Db) => void;
  /** Runs on the database after migrating to `to`. */
  readonly check: (db: Db) => void;
}

const count = (db: Db, sql: string, ...params: unknown[]) =>
  db
    .prepare(sql)
    .pluck()
    .get(...params) as number;

/** Version 1 rows, reused by later cases (each version's seed must still be valid SQL for it). */
function seedVersion1(db: Db): void {
  db.exec(`
    INSERT INTO datasets (id, path, fingerprint, name, classes, split, created_at, last_used_at)
      VALUES (1, '/data/flowers', 'sha-1', 'flowers', '["daisy","rose"]', '{"train":80,"validation":10,"test":10}', 1000, 1000);
    INSERT INTO runs (id, name, dataset_id, config, status, created_at, started_at, finished_at)
      VALUES (1, 'b0 baseline', 1, '{"epochs":3,"lr":0.001}', 'completed', 1000, 1100, 5000),
             (2, 'b0 resumed', 1, '{"epochs":3,"lr":0.001}', 'queued', 6000, NULL, NULL),
             (3, 'no metrics yet', NULL, '{}', 'failed', 7000, 7100, 7200);
    UPDATE runs SET resumed_from = 1 WHERE id = 2;
    INSERT INTO metrics (run_id, name, epoch, value) VALUES
      (1, 'val_accuracy', 1, 0.50), (1, 'val_accuracy', 2, 0.80), (1, 'val_accuracy', 3, 0.70),
      (1, 'loss', 1, 2.0), (1, 'loss', 2, 1.0), (1, 'loss', 3, NULL), (1, 'loss', 4, 0.9),
      (2, 'val_accuracy', 1, NULL), (2, 'val_accuracy', 2, 0.40);
    INSERT INTO artifacts (run_id, kind, path, sha256, bytes, epoch, created_at)
      VALUES (1, 'checkpoint', '/runs/1/epoch-2', '${'a'.repeat(64)}', 1234, 2, 3000);
  `);
}

function checkVersion1Data(db: Db): void {
  assert.equal(count(db, 'SELECT count(*) FROM runs'), 3);
  assert.equal(count(db, 'SELECT count(*) FROM metrics'), 9);
  assert.equal(count(db, "SELECT value FROM metrics WHERE run_id = 1 AND name = 'val_accuracy' AND epoch = 2"), 0.8);
  assert.equal(count(db, 'SELECT resumed_from FROM runs WHERE id = 2'), 1);
  assert.equal(count(db, 'SELECT bytes FROM artifacts WHERE run_id = 1'), 1234);
  assert.deepEqual(JSON.parse(db.prepare('SELECT classes FROM datasets WHERE id = 1').pluck().get() as string), ['daisy', 'rose']);
}

function seedVersion2(db: Db): void {
  seedVersion1(db);
  db.exec(`
    INSERT INTO tags (id, name) VALUES (1, 'baseline'), (2, 'b0');
    INSERT INTO run_tags (run_id, tag_id) VALUES (1, 1), (1, 2), (2, 2);
    INSERT INTO notes (run_id, body, created_at, updated_at) VALUES (1, 'best so far', 5000, 5000);
  `);
}

function seedVersion3(db: Db): void {
  seedVersion2(db);
  db.exec(`
    INSERT INTO run_events (run_id, seq, type, payload, time) VALUES
      (1, 1, 'started', '{}', 1100), (1, 2, 'epoch', '{"epoch":1}', 2000), (1, 3, 'finished', '{}', 5000);
  `);
}

const cases: { readonly [to: number]: MigrationCase } = {
  1: {
    seed: () => {},
    check: (db) => {
      seedVersion1(db);
      checkVersion1Data(db);
      db.pragma('foreign_keys = ON');
      db.exec('DELETE FROM runs WHERE id = 1');
      assert.equal(count(db, 'SELECT count(*) FROM metrics WHERE run_id = 1'), 0, 'metrics cascade with their run');
      assert.equal(count(db, 'SELECT count(*) FROM artifacts'), 0, 'artifacts cascade with their run');
      assert.equal(count(db, 'SELECT resumed_from FROM runs WHERE id = 2'), null, 'a resumed run outlives its source');
      assert.throws(
        () => db.exec(`INSERT INTO runs (name, config, status, created_at) VALUES ('x', '{}', 'paused', 1)`),
        /CHECK constraint/,
      );
      assert.throws(
        () => db.exec(`INSERT INTO runs (name, config, status, created_at) VALUES ('x', 'not json', 'queued', 1)`),
        /CHECK constraint/,
      );
    },
  },
  2: {
    seed: seedVersion1,
    check: (db) => {
      checkVersion1Data(db);
      db.pragma('foreign_keys = ON');
      db.exec(`INSERT INTO tags (name) VALUES ('Baseline'); INSERT INTO run_tags VALUES (1, 1);
               INSERT INTO notes (run_id, body, created_at, updated_at) VALUES (1, 'a note', 1, 1);`);
      assert.throws(() => db.exec("INSERT INTO tags (name) VALUES ('BASELINE')"), /UNIQUE/, 'tag names are unique ignoring case');
      db.exec('DELETE FROM runs WHERE id = 1');
      assert.equal(count(db, 'SELECT count(*) FROM run_tags'), 0);
      assert.equal(count(db, 'SELECT count(*) FROM notes'), 0);
    },
  },
  3: {
    seed: seedVersion2,
    check: (db) => {
      checkVersion1Data(db);
      assert.equal(count(db, 'SELECT count(*) FROM run_tags'), 3);
      assert.equal(count(db, 'SELECT body FROM notes WHERE run_id = 1') as unknown, 'best so far');
      db.pragma('foreign_keys = ON');
      db.exec(`INSERT INTO run_events (run_id, seq, type, payload, time) VALUES (1, 1, 'started', '{"pid":1}', 1);
               INSERT INTO step_metrics (run_id, name, chunk, first_step, last_step, count, steps, vals) VALUES (1, 'loss', 0, 0, 0, 1, x'00000000', x'0000803f');`);
      assert.throws(() => db.exec(`INSERT INTO run_events (run_id, seq, type, payload, time) VALUES (1, 1, 'log', '{}', 2)`), /UNIQUE/);
      db.exec('DELETE FROM runs WHERE id = 1');
      assert.equal(count(db, 'SELECT count(*) FROM run_events'), 0);
      assert.equal(count(db, 'SELECT count(*) FROM step_metrics'), 0);
    },
  },
  4: {
    seed: seedVersion3,
    check: (db) => {
      checkVersion1Data(db);
      assert.equal(count(db, 'SELECT count(*) FROM run_events'), 3);
      // The backfill: best is the highest val_accuracy (not the last); final is the last epoch's;
      // NaN (NULL) epochs count for epochs done but never as best.
      const summary = db.prepare('SELECT id, epochs_done, best_val_accuracy, best_epoch, final_val_accuracy FROM runs ORDER BY id').all();
      assert.deepEqual(summary, [
        { id: 1, epochs_done: 4, best_val_accuracy: 0.8, best_epoch: 2, final_val_accuracy: 0.7 },
        { id: 2, epochs_done: 2, best_val_accuracy: 0.4, best_epoch: 2, final_val_accuracy: 0.4 },
        { id: 3, epochs_done: 0, best_val_accuracy: null, best_epoch: null, final_val_accuracy: null },
      ]);
    },
  },
};

test('every migration has a test case from the version before it', () => {
  assert.deepEqual(
    Object.keys(cases).map(Number),
    MIGRATIONS.map((_, index) => index + 1),
  );
});

for (const [index, migration] of MIGRATIONS.entries()) {
  const to = index + 1;
  test(`migration ${to} (${migration.name}) upgrades a version ${to - 1} database with data in it`, (t) => {
    const temp = temporaryFolder();
    t.after(temp.remove);
    const file = temp.file('effnet.sqlite');
    const before = openDatabase(file, { targetVersion: to - 1 });
    assert.equal(schemaVersion(before), to - 1);
    cases[to]!.seed(before);
    before.close();

    const after = openDatabase(file, { targetVersion: to });
    t.after(() => after.close());
    assert.equal(schemaVersion(after), to);
    cases[to]!.check(after);
    assert.deepEqual(after.pragma('foreign_key_check'), []);
  });
}

test('the store works on a database upgraded from the first version', (t) => {
  const temp = temporaryFolder();
  t.after(temp.remove);
  const file = temp.file('effnet.sqlite');
  const old = openDatabase(file, { targetVersion: 1 });
  seedVersion1(old);
  old.close();

  const store = openStore(file);
  t.after(() => store.close());
  const page = store.runList.list({ sort: 'bestValAccuracy' });
  assert.deepEqual(
    page.rows.map((row) => [row.id, row.bestValAccuracy]),
    [
      [1, 0.8],
      [2, 0.4],
      [3, null],
    ],
  );
  store.metrics.recordEpoch(1, 5, { val_accuracy: 0.9 });
  assert.equal(store.runs.require(1).bestValAccuracy, 0.9);
  assert.equal(store.runs.require(1).epochsDone, 5);
});
