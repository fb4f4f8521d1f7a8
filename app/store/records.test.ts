import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AppError } from '../common/errors.ts';
import { RUN_EVENT_TYPES } from '../common/store-types.ts';
import { openStore, type Store } from './store.ts';
import { temporaryFolder } from './test-support.ts';

function newStore(t: { after: (fn: () => void) => void }): Store {
  const temp = temporaryFolder();
  const store = openStore(temp.file('effnet.sqlite'));
  t.after(() => {
    store.close();
    temp.remove();
  });
  return store;
}

test('events get gap-free seqs per run and a live view reads only what is new', (t) => {
  const store = newStore(t);
  const a = store.runs.create({ name: 'a', config: {} }).id;
  const b = store.runs.create({ name: 'b', config: {} }).id;
  assert.equal(store.events.lastSeq(a), 0);
  const seqs = RUN_EVENT_TYPES.map((type, i) => store.events.append(i % 2 === 0 ? a : b, { type, payload: { i }, time: 100 + i }));
  assert.deepEqual(seqs, [1, 1, 2, 2, 3, 3, 4, 4]);
  assert.equal(
    store.events.appendMany(a, [
      { type: 'log', payload: 'x' },
      { type: 'log', payload: ['y', 1, null] },
    ]),
    6,
  );

  const seen = store.events.since(a, 0);
  assert.deepEqual(
    seen.map((event) => [event.seq, event.type]),
    [
      [1, 'started'],
      [2, 'epoch'],
      [3, 'log'],
      [4, 'finished'],
      [5, 'log'],
      [6, 'log'],
    ],
  );
  assert.deepEqual(seen[0], { runId: a, seq: 1, type: 'started', payload: { i: 0 }, time: 100 });
  assert.deepEqual(
    store.events.since(a, 4).map((event) => event.payload),
    ['x', ['y', 1, null]],
  );
  assert.deepEqual(
    store.events.since(a, 1, 2).map((event) => event.seq),
    [2, 3],
    'limit',
  );
  assert.equal(store.runDetail(a).lastEventSeq, 6);
});

test('a burst with an invalid event stores none of the burst', (t) => {
  const store = newStore(t);
  const run = store.runs.create({ name: 'a', config: {} }).id;
  assert.throws(() => store.events.appendMany(run, [{ type: 'log' }, { type: 'nonsense' as 'log' }]), AppError);
  assert.equal(store.events.lastSeq(run), 0);
});

test('tags ignore case, attach once, and disappear when no run carries them', (t) => {
  const store = newStore(t);
  const a = store.runs.create({ name: 'a', config: {} }).id;
  const b = store.runs.create({ name: 'b', config: {} }).id;
  store.tags.add(a, ['Baseline', ' b0 ']);
  store.tags.add(a, ['baseline']);
  store.tags.add(b, ['BASELINE', 'augment']);
  assert.deepEqual(store.tags.forRun(a), ['b0', 'Baseline']);
  assert.deepEqual(store.tags.forRun(b), ['augment', 'Baseline'], 'the first spelling of a tag is kept');
  assert.deepEqual(store.tags.all(), [
    { name: 'augment', runs: 1 },
    { name: 'b0', runs: 1 },
    { name: 'Baseline', runs: 2 },
  ]);
  store.tags.remove(a, ['b0', 'baseline']);
  assert.deepEqual(store.tags.forRun(a), []);
  assert.deepEqual(
    store.tags.all().map((tag) => tag.name),
    ['augment', 'Baseline'],
  );
});

test('notes are added, edited and removed; edits keep the creation time', (t) => {
  const store = newStore(t);
  const run = store.runs.create({ name: 'a', config: {} }).id;
  const first = store.notes.add(run, 'try a lower learning rate', 1000);
  store.notes.add(run, 'second thought', 2000);
  const edited = store.notes.update(first.id, 'tried it: +2%', 3000);
  assert.deepEqual([edited.body, edited.createdAt, edited.updatedAt], ['tried it: +2%', 1000, 3000]);
  assert.equal(store.notes.remove(first.id), true);
  assert.equal(store.notes.remove(first.id), false);
  assert.deepEqual(
    store.notes.forRun(run).map((note) => note.body),
    ['second thought'],
  );
  assert.throws(
    () => store.notes.update(first.id, 'gone'),
    (error: unknown) => error instanceof AppError && error.code === 'note-not-found',
  );
  assert.throws(
    () => store.notes.add(run, '   '),
    (error: unknown) => error instanceof AppError && error.code === 'note-invalid',
  );
});

test('an artifact written again at the same path updates its row', (t) => {
  const store = newStore(t);
  const run = store.runs.create({ name: 'a', config: {} }).id;
  const first = store.artifacts.add(run, { kind: 'checkpoint', path: '/runs/a/last', sha256: '1'.repeat(64), bytes: 10, epoch: 1 }, 100);
  const again = store.artifacts.add(run, { kind: 'checkpoint', path: '/runs/a/last', sha256: '2'.repeat(64), bytes: 20, epoch: 2 }, 200);
  assert.equal(again.id, first.id);
  assert.deepEqual(store.artifacts.list(run), [
    { id: first.id, runId: run, kind: 'checkpoint', path: '/runs/a/last', sha256: '2'.repeat(64), bytes: 20, epoch: 2, createdAt: 200 },
  ]);
  assert.equal(store.artifacts.remove(first.id), '/runs/a/last');
  assert.deepEqual(store.artifacts.list(run), []);
});

test('a dataset is one row per (path, fingerprint): changed contents make a new row', (t) => {
  const store = newStore(t);
  const split = { train: 8, validation: 1, test: 1, method: 'folders' };
  const first = store.datasets.upsert({ path: '/data/cats', fingerprint: 'v1', classes: ['cat', 'dog'], split }, 100);
  const same = store.datasets.upsert({ path: '/data/cats', fingerprint: 'v1', classes: ['cat', 'dog'], split }, 200);
  const changed = store.datasets.upsert({ path: '/data/cats', fingerprint: 'v2', classes: ['cat', 'dog', 'fox'], split }, 300);
  assert.equal(same.id, first.id);
  assert.deepEqual([same.createdAt, same.lastUsedAt, same.name], [100, 200, 'cats']);
  assert.notEqual(changed.id, first.id);
  assert.deepEqual(store.datasets.get(changed.id)?.classes, ['cat', 'dog', 'fox']);
  assert.deepEqual(
    store.datasets.list().map((dataset) => dataset.fingerprint),
    ['v2', 'v1'],
  );
});
