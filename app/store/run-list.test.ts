/**
 * The runs list against a plain-JavaScript model of the same runs: for each query in the table,
 * the store's page must equal filtering and sorting the model.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RUN_STATUSES, type RunListQuery, type RunStatus } from '../common/store-types.ts';
import { openStore, type Store } from './store.ts';
import { temporaryFolder } from './test-support.ts';

interface ModelRun {
  id: number;
  name: string;
  status: RunStatus;
  datasetId: number;
  tags: string[];
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
  valAccuracy: number[];
}

const NOW = 10_000_000;
const NAMES = ['b0 baseline', 'B0 lr_0.1', 'b3 100% frozen', 'mixup', 'Mixup strong', 'cutout', 'lr0x1', 'b7 big'];
const TAGS = ['baseline', 'augment', 'b0', 'long'];

/** mulberry32: small, seeded, the same numbers on every machine. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let x = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

function seedRuns(store: Store): ModelRun[] {
  const next = random(42);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
  const datasets = [1, 2, 3].map(
    (i) =>
      store.datasets.upsert({ path: `/data/set${i}`, fingerprint: 'f', classes: ['a', 'b'], split: { train: 1, validation: 1, test: 0 } })
        .id,
  );
  const model: ModelRun[] = [];
  for (let i = 0; i < 60; i++) {
    const status = pick(RUN_STATUSES);
    // Equal creation times in pairs, so ties are broken by id.
    const createdAt = 1_000_000 + Math.floor(i / 2) * 1000;
    const run = store.runs.create({ name: `${pick(NAMES)} #${i % 7}`, config: { i }, datasetId: pick(datasets) }, createdAt);
    const startedAt = status === 'queued' ? null : createdAt + 100;
    let finishedAt: number | null = null;
    if (startedAt !== null) store.runs.start(run.id, { backend: 'cpu', device: 'cpu' }, startedAt);
    if (status !== 'queued' && status !== 'running') {
      finishedAt = startedAt! + Math.floor(next() * 50_000);
      store.runs.finish(run.id, status, null, finishedAt);
    }
    const epochs = status === 'queued' ? 0 : Math.floor(next() * 6);
    const valAccuracy = Array.from({ length: epochs }, () => Math.round(next() * 1000) / 1000);
    store.metrics.recordEpochs(
      run.id,
      valAccuracy.map((value, e) => ({ epoch: e + 1, values: { val_accuracy: value, loss: 1 - value } })),
    );
    const tags = TAGS.filter(() => next() < 0.35);
    store.tags.add(run.id, tags);
    model.push({ id: run.id, name: run.name, status, datasetId: run.datasetId!, tags, createdAt, startedAt, finishedAt, valAccuracy });
  }
  return model;
}

function expectedPage(model: ModelRun[], query: RunListQuery): { ids: number[]; total: number } {
  const statuses = query.status === undefined ? undefined : typeof query.status === 'string' ? [query.status] : query.status;
  const search = query.search?.toLowerCase();
  const matching = model.filter(
    (run) =>
      (!statuses || statuses.length === 0 || statuses.includes(run.status)) &&
      (query.tags ?? []).every((tag) => run.tags.includes(tag.toLowerCase())) &&
      (query.datasetId === undefined || run.datasetId === query.datasetId) &&
      (!search || run.name.toLowerCase().includes(search)),
  );
  const sort = query.sort ?? 'created';
  const key = (run: ModelRun): number | string | null => {
    switch (sort) {
      case 'created':
        return run.createdAt;
      case 'name':
        return run.name.toLowerCase();
      case 'bestValAccuracy':
        return run.valAccuracy.length === 0 ? null : Math.max(...run.valAccuracy);
      case 'finalValAccuracy':
        return run.valAccuracy.at(-1) ?? null;
      case 'duration':
        return run.startedAt === null ? null : (run.finishedAt ?? NOW) - run.startedAt;
    }
  };
  const sign = (query.direction ?? (sort === 'name' ? 'asc' : 'desc')) === 'asc' ? 1 : -1;
  const sorted = [...matching].sort((a, b) => {
    const [ka, kb] = [key(a), key(b)];
    if (ka === null || kb === null) return ka === kb ? sign * (a.id - b.id) : ka === null ? 1 : -1; // nulls last
    if (ka !== kb) return sign * (ka < kb ? -1 : 1);
    return sign * (a.id - b.id);
  });
  const offset = query.offset ?? 0;
  return { ids: sorted.slice(offset, offset + (query.limit ?? 50)).map((run) => run.id), total: matching.length };
}

const queries: RunListQuery[] = [
  {},
  { sort: 'created', direction: 'asc' },
  { sort: 'name' },
  { sort: 'name', direction: 'desc', limit: 10, offset: 5 },
  { sort: 'bestValAccuracy' },
  { sort: 'bestValAccuracy', direction: 'asc' },
  { sort: 'finalValAccuracy', status: 'completed' },
  { sort: 'duration' },
  { sort: 'duration', direction: 'asc', status: ['running', 'failed'] },
  { status: 'queued' },
  { status: [] },
  { tags: ['baseline'] },
  { tags: ['Baseline', 'augment'], sort: 'bestValAccuracy' },
  { tags: ['no such tag'] },
  { datasetId: 2, sort: 'name' },
  { search: 'mixup' },
  { search: 'LR_' }, // '_' is literal: matches "lr_0.1" only, not "lr0x1"
  { search: '100%' },
  { search: 'b0', status: 'completed', tags: ['b0'], sort: 'bestValAccuracy', limit: 3 },
  { sort: 'bestValAccuracy', limit: 7, offset: 0 },
  { sort: 'bestValAccuracy', limit: 7, offset: 7 },
  { limit: 50, offset: 55 },
];

test('every query in the table returns the model’s page and total', (t) => {
  const temp = temporaryFolder();
  const store = openStore(temp.file('effnet.sqlite'));
  t.after(() => {
    store.close();
    temp.remove();
  });
  const model = seedRuns(store);
  for (const query of queries) {
    const page = store.runList.list(query, NOW);
    const expected = expectedPage(model, query);
    assert.deepEqual({ ids: page.rows.map((row) => row.id), total: page.total }, expected, JSON.stringify(query));
  }
  // The table exercises what it claims to.
  assert.ok(
    expectedPage(model, { search: 'LR_' }).total > 0 &&
      expectedPage(model, { search: 'lr' }).total > expectedPage(model, { search: 'lr_' }).total,
  );
  assert.ok(expectedPage(model, { tags: ['baseline', 'augment'] }).total > 0);
});

test('each row carries tags, dataset name, duration, epochs done and best and final accuracy', (t) => {
  const temp = temporaryFolder();
  const store = openStore(temp.file('effnet.sqlite'));
  t.after(() => {
    store.close();
    temp.remove();
  });
  const model = seedRuns(store);
  const rows = store.runList.list({ limit: 500 }, NOW).rows;
  assert.equal(rows.length, model.length);
  for (const row of rows) {
    const run = model.find((one) => one.id === row.id)!;
    assert.deepEqual([...row.tags].sort(), [...run.tags].sort(), `tags of ${row.id}`);
    assert.equal(row.datasetName, `set${run.datasetId}`);
    assert.equal(row.durationMs, run.startedAt === null ? null : (run.finishedAt ?? NOW) - run.startedAt);
    assert.equal(row.epochsDone, run.valAccuracy.length);
    assert.equal(row.bestValAccuracy, run.valAccuracy.length === 0 ? null : Math.max(...run.valAccuracy));
    assert.equal(row.finalValAccuracy, run.valAccuracy.at(-1) ?? null);
  }
});

test('run detail and compare return the series of each run', (t) => {
  const temp = temporaryFolder();
  const store = openStore(temp.file('effnet.sqlite'));
  t.after(() => {
    store.close();
    temp.remove();
  });
  const model = seedRuns(store);
  const withMetrics = model.filter((run) => run.valAccuracy.length > 0).slice(0, 3);
  const empty = model.find((run) => run.valAccuracy.length === 0)!;
  const detail = store.runDetail(withMetrics[0]!.id);
  assert.deepEqual(detail.metrics.val_accuracy!.values, withMetrics[0]!.valAccuracy);
  assert.equal(detail.dataset?.name, `set${withMetrics[0]!.datasetId}`);
  assert.deepEqual([...detail.tags].sort(), [...withMetrics[0]!.tags].sort());

  const ids = [...withMetrics.map((run) => run.id), empty.id];
  const comparison = store.compare(ids, ['val_accuracy']);
  assert.deepEqual(
    comparison.runs.map((run) => run.id),
    ids,
  );
  assert.deepEqual(Object.keys(comparison.metrics), ['val_accuracy']);
  assert.deepEqual(
    comparison.metrics.val_accuracy!.map((series) => series.values),
    [...withMetrics.map((run) => run.valAccuracy), []],
  );
  assert.deepEqual(Object.keys(store.compare(ids).metrics), ['loss', 'val_accuracy'], 'all metrics by default');
});
