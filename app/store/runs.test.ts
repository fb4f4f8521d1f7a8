import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { AppError } from '../common/errors.ts';
import { RUN_STATUSES, type RunStatus } from '../common/store-types.ts';
import { currentOwner, sameBoot, type RunOwner } from './owner.ts';
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

/** The lifecycle, written out independently of RUN_TRANSITIONS. */
const ALLOWED = new Set([
  'queued>running',
  'queued>cancelled',
  'queued>failed',
  'queued>interrupted',
  'running>completed',
  'running>failed',
  'running>cancelled',
  'running>interrupted',
]);

function runIn(store: Store, status: RunStatus): number {
  const run = store.runs.create({ name: `a ${status} run`, config: {} });
  if (status === 'queued') return run.id;
  store.runs.start(run.id, { backend: 'cpu', device: 'cpu' });
  if (status !== 'running') store.runs.finish(run.id, status);
  return run.id;
}

test('status changes follow queued → running → completed | failed | cancelled | interrupted', (t) => {
  const store = newStore(t);
  for (const from of RUN_STATUSES) {
    for (const to of RUN_STATUSES.filter((status) => status !== 'queued')) {
      const id = runIn(store, from);
      const change = () =>
        to === 'running' ? store.runs.start(id, { backend: 'wasm', device: 'cpu' }, 5000) : store.runs.finish(id, to, 'why', 6000);
      if (ALLOWED.has(`${from}>${to}`)) {
        const run = change();
        assert.equal(run.status, to, `${from} → ${to}`);
        if (to === 'running') assert.deepEqual([run.startedAt, run.backend, run.ownerPid], [5000, 'wasm', process.pid]);
        else assert.deepEqual([run.finishedAt, run.statusMessage], [6000, 'why']);
      } else {
        assert.throws(change, (error: unknown) => error instanceof AppError && error.code === 'run-status', `${from} → ${to} is refused`);
        assert.equal(store.runs.require(id).status, from, `${from} stays ${from}`);
      }
    }
  }
});

test('interrupted, cancelled and failed runs resume as a new queued run linked to the old one', (t) => {
  const store = newStore(t);
  const dataset = store.datasets.upsert({ path: '/d', fingerprint: 'f', classes: ['a'], split: { train: 1, validation: 0, test: 0 } });
  for (const status of RUN_STATUSES) {
    const run = store.runs.create({ name: 'long', config: { epochs: 50 }, datasetId: dataset.id, seed: 7 });
    if (status !== 'queued') store.runs.start(run.id, { backend: 'cpu', device: 'cpu' });
    if (status !== 'queued' && status !== 'running') store.runs.finish(run.id, status);
    if (['interrupted', 'cancelled', 'failed'].includes(status)) {
      const resumed = store.runs.resume(run.id, { config: { epochs: 80 } });
      assert.deepEqual(
        [resumed.status, resumed.resumedFrom, resumed.name, resumed.datasetId, resumed.seed, resumed.config],
        ['queued', run.id, 'long (resumed)', dataset.id, 7, { epochs: 80 }],
      );
    } else {
      assert.throws(
        () => store.runs.resume(run.id),
        (error: unknown) => error instanceof AppError && error.code === 'run-not-resumable',
      );
    }
  }
});

interface StaleCase {
  readonly name: string;
  readonly status: RunStatus;
  readonly owner: () => Promise<{ owner: RunOwner; release?: () => void }>;
  readonly expected: RunStatus;
}

/** A pid that belonged to a process that has exited. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(child.stdout);
}

async function liveChild(): Promise<{ owner: RunOwner; release: () => void }> {
  const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
  await new Promise((resolve) => child.once('spawn', resolve));
  return { owner: currentOwner(child.pid!), release: () => child.kill() };
}

const staleCases: StaleCase[] = [
  {
    name: 'a running run whose process exited',
    status: 'running',
    owner: async () => ({ owner: currentOwner(deadPid()) }),
    expected: 'interrupted',
  },
  { name: 'a running run of this process', status: 'running', owner: async () => ({ owner: currentOwner() }), expected: 'running' },
  { name: 'a running run of another live process', status: 'running', owner: liveChild, expected: 'running' },
  {
    name: 'a running run from before a reboot (same pid number)',
    status: 'running',
    owner: async () => ({ owner: { ...currentOwner(), boot: 'a-previous-boot' } }),
    expected: 'interrupted',
  },
  {
    name: 'a completed run whose process exited',
    status: 'completed',
    owner: async () => ({ owner: currentOwner(deadPid()) }),
    expected: 'completed',
  },
  { name: 'a queued run', status: 'queued', owner: async () => ({ owner: currentOwner(deadPid()) }), expected: 'queued' },
];

for (const stale of staleCases) {
  test(`at start, ${stale.name} becomes ${stale.expected}`, async (t) => {
    const store = newStore(t);
    const { owner, release } = await stale.owner();
    t.after(() => release?.());
    const run = store.runs.create({ name: stale.name, config: {} });
    if (stale.status !== 'queued') store.runs.start(run.id, { backend: 'cpu', device: 'cpu', owner }, 1000);
    if (stale.status === 'completed') store.runs.finish(run.id, 'completed', null, 2000);
    store.events.append(run.id, { type: 'progress', time: 1500 });

    const marked = store.runs.markStaleRunsInterrupted('the app stopped', currentOwner(), 9000);
    const after = store.runs.require(run.id);
    assert.equal(after.status, stale.expected);
    assert.deepEqual(marked, stale.expected === 'interrupted' && stale.status !== 'interrupted' ? [run.id] : []);
    if (stale.expected === 'interrupted') {
      assert.equal(after.statusMessage, 'the app stopped');
      assert.equal(after.finishedAt, 1500, 'ends at its last event, not when the app restarted');
    }
  });
}

test('boot times read from uptime match within seconds; boot ids must be equal', () => {
  const table: [string, string, boolean][] = [
    ['0d6a8c2e-1', '0d6a8c2e-1', true],
    ['0d6a8c2e-1', '0d6a8c2e-2', false],
    ['boot@1700000000000', 'boot@1700000001500', true],
    ['boot@1700000000000', 'boot@1700000600000', false],
    ['boot@1700000000000', '0d6a8c2e-1', false],
  ];
  for (const [a, b, expected] of table) assert.equal(sameBoot(a, b), expected, `${a} vs ${b}`);
});

test('deleting a run removes its rows everywhere, returns its files and spares other runs', (t) => {
  const store = newStore(t);
  const [doomed, kept] = [runIn(store, 'completed'), runIn(store, 'completed')];
  for (const id of [doomed, kept]) {
    store.metrics.recordEpoch(id, 1, { val_accuracy: 0.5, loss: 1 });
    store.steps.append(id, [{ step: 1, values: { loss: 1 } }]);
    store.events.append(id, { type: 'log', payload: 'hello' });
    store.artifacts.add(id, { kind: 'checkpoint', path: `/runs/${id}/ckpt`, sha256: 'b'.repeat(64), bytes: 10 });
    store.artifacts.add(id, { kind: 'export', path: `/runs/${id}/model.onnx`, sha256: 'c'.repeat(64), bytes: 20 });
    store.tags.add(id, ['shared']);
    store.notes.add(id, 'note');
  }
  // Completed runs are not resumable through the API; link one by hand to check the foreign key.
  const resumedFromDoomed = store.runs.create({ name: 'continues the doomed run', config: {} });
  store.db.prepare('UPDATE runs SET resumed_from = ? WHERE id = ?').run(doomed, resumedFromDoomed.id);

  assert.deepEqual(store.runs.delete(doomed), { artifactPaths: [`/runs/${doomed}/ckpt`, `/runs/${doomed}/model.onnx`] });
  assert.equal(store.runs.get(doomed), undefined);
  const rowsPerRun = { metrics: 2, step_metrics: 1, run_events: 1, artifacts: 2, run_tags: 1, notes: 1 };
  for (const [table, n] of Object.entries(rowsPerRun)) {
    const rows = store.db.prepare(`SELECT run_id, count(*) AS n FROM ${table} GROUP BY run_id`).all();
    assert.deepEqual(rows, [{ run_id: kept, n }], table);
  }
  assert.equal(store.runs.require(resumedFromDoomed.id).resumedFrom, null, 'a run resumed from it stays, unlinked');
  assert.deepEqual(store.tags.forRun(kept), ['shared']);
});

test('a running run cannot be deleted', (t) => {
  const store = newStore(t);
  const id = runIn(store, 'running');
  assert.throws(
    () => store.runs.delete(id),
    (error: unknown) => error instanceof AppError && error.code === 'run-active',
  );
  assert.equal(store.runs.require(id).status, 'running');
});

test('bad input is refused with an AppError naming the run', (t) => {
  const store = newStore(t);
  const table: [string, () => unknown, string][] = [
    ['empty name', () => store.runs.create({ name: '  ', config: {} }), 'run-invalid'],
    ['unknown run', () => store.runs.require(404), 'run-not-found'],
    ['metrics for an unknown run', () => store.metrics.recordEpoch(404, 1, { loss: 1 }), 'run-not-found'],
    ['events for an unknown run', () => store.events.append(404, { type: 'log' }), 'run-not-found'],
    ['a negative epoch', () => store.metrics.recordEpoch(runIn(store, 'running'), -1, { loss: 1 }), 'metric-invalid'],
    ['an unknown event type', () => store.events.append(runIn(store, 'running'), { type: 'exploded' as 'log' }), 'event-invalid'],
    [
      'a malformed sha256',
      () => store.artifacts.add(runIn(store, 'running'), { kind: 'x', path: '/p', sha256: 'xyz', bytes: 1 }),
      'artifact-invalid',
    ],
    ['an empty tag', () => store.tags.add(runIn(store, 'running'), ['']), 'tag-invalid'],
    ['an unknown sort', () => store.runList.list({ sort: 'colour' as 'name' }), 'query-invalid'],
  ];
  for (const [name, action, code] of table) {
    assert.throws(action, (error: unknown) => error instanceof AppError && error.code === code, name);
  }
});
