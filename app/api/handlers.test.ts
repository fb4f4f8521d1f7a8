import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { writeDataset, png } from '../dataset/test-datasets.ts';
import { openStore } from '../store/index.ts';
import type { AppEvent } from '../common/ipc/events.ts';
import type { Result } from '../common/errors.ts';
import { createApiContext, createApiHandlers, dispatch } from './handlers.ts';
import { seedExampleRuns } from './test-support.ts';

const home = mkdtempSync(path.join(os.tmpdir(), 'effnet-api-'));
const env = { EFFNET_HOME: home };
const context = createApiContext({ env, shell: 'browser', openStore: () => openStore(path.join(home, 'effnet.sqlite')) });
const handlers = createApiHandlers(context);
const events: AppEvent[] = [];
context.events.subscribe((event) => events.push(event));
after(() => {
  context.close();
  rmSync(home, { recursive: true, force: true });
});

/** Calls a channel and returns its value, failing the test with the error if it failed. */
async function value<T = unknown>(channel: string, ...args: unknown[]): Promise<T> {
  const result = (await dispatch(handlers, channel, args)) as Result<T>;
  if (!result.ok) assert.fail(`${channel} failed: ${result.error.code}: ${result.error.message}`);
  return result.value;
}
async function failure(channel: string, ...args: unknown[]) {
  const result = await dispatch(handlers, channel, args);
  assert.equal(result.ok, false, `${channel} should have failed`);
  return (result as { ok: false; error: { code: string; message: string } }).error;
}

// cat/ 4 images, dog/ 3 images of which one is a copy of a cat (a cross-class leak), one broken file.
const dataset = path.join(home, 'pets');
await writeDataset(dataset, {
  'cat/1.png': png(1, [24, 24]),
  'cat/2.png': png(2, [24, 24]),
  'cat/3.png': png(3, [24, 24]),
  'cat/4.png': png(4, [24, 24]),
  'dog/1.png': png(11, [24, 24]),
  'dog/2.png': png(12, [24, 24]),
  'dog/copy-of-cat.png': png(1, [24, 24]),
  'dog/broken.png': { text: 'not an image' },
});

test('the variant table comes back through dispatch with the paper numbers', async () => {
  const variants = await value<{ name: string; totalParams: number; resolution: number }[]>('models:variants');
  assert.deepEqual(
    variants.map((v) => v.name),
    ['b0', 'b1', 'b2', 'b3', 'b4', 'b5', 'b6', 'b7'],
  );
  assert.equal(variants[0]!.totalParams, 5_330_571);
  assert.equal(variants[7]!.resolution, 600);
});

test('a custom φ is described between its neighbours and has no paper accuracy', async () => {
  const custom = await value<{ resolution: number; totalParams: number; paperTop1: number | null }>('models:describe', { phi: 1.5 });
  const [b1, b2] = [
    await value<{ totalParams: number }>('models:describe', { variant: 'b1' }),
    await value<{ totalParams: number }>('models:describe', { variant: 'b2' }),
  ];
  assert.ok(custom.totalParams > b1.totalParams && custom.totalParams < b2.totalParams * 1.3, `${custom.totalParams}`);
  assert.equal(custom.paperTop1, null);
  assert.equal((await failure('models:describe', { phi: 20 })).code, 'invalid-request');
});

test('app:info reports the data folder and the shell it runs in', async () => {
  const info = await value<{ dataFolder: string; shell: string; features: Record<string, boolean> }>('app:info');
  assert.equal(info.dataFolder, home);
  assert.equal(info.shell, 'browser');
  assert.equal(typeof info.features.training, 'boolean');
});

test('unknown channels and bad arguments come back as errors, never as throws', async () => {
  const unknown = await failure('fs:readFile', '/etc/passwd');
  assert.match(unknown.message, /Unknown API channel 'fs:readFile'/);
  assert.equal((await failure('app:info', 'unexpected')).code, 'invalid-request');
  assert.match((await failure('runs:get', 'one')).message, /runs:get: argument 0/);
  const notArray = await dispatch(handlers, 'app:info', { not: 'an array' });
  assert.equal(notArray.ok, false);
});

test('path arguments must exist, be absolute and be the expected kind', async () => {
  const cases: [unknown, RegExp][] = [
    ['relative/folder', /not an absolute path/],
    [path.join(home, 'missing'), /does not exist/],
    ['', /give a path/],
    [`${home}\0x`, /NUL/],
  ];
  for (const [source, message] of cases) {
    const error = await failure('datasets:inspect', { source });
    assert.match(error.message, message, String(source));
  }
});

test('inspecting a dataset reports classes, the unreadable file and the cross-class leak, with progress events', async () => {
  events.length = 0;
  const report = await value<{
    classes: { name: string; count: number }[];
    totals: { unreadable: number };
    issues: { kind: string; path: string; details?: { leak?: string } }[];
  }>('datasets:inspect', { source: dataset });
  assert.deepEqual(
    report.classes.map((c) => [c.name, c.count]),
    [
      ['cat', 4],
      ['dog', 3],
    ],
  );
  assert.equal(report.totals.unreadable, 1);
  assert.ok(report.issues.some((i) => i.kind === 'unreadable' && i.path === 'dog/broken.png'));
  assert.ok(report.issues.some((i) => i.kind === 'duplicate' && i.path === 'dog/copy-of-cat.png' && i.details?.leak === 'class'));
  const progress = events.filter((e) => e.type === 'dataset:progress');
  assert.ok(progress.length >= 1);
  assert.deepEqual(progress.at(-1), { type: 'dataset:progress', source: dataset, done: 8, total: 8 });
  const recent = await value<{ path: string; classes: string[] }[]>('datasets:recent');
  assert.deepEqual(
    recent.map((r) => [r.path, r.classes]),
    [[dataset, ['cat', 'dog']]],
  );
});

test('thumbnails are small JPEG data URLs; a broken file says why; paths cannot leave the dataset', async () => {
  const cats = await value<{ path: string; dataUrl: string | null }[]>('datasets:thumbnails', {
    source: dataset,
    class: 'cat',
    limit: 2,
    size: 32,
  });
  assert.equal(cats.length, 2);
  for (const thumbnail of cats) {
    assert.match(thumbnail.dataUrl!, /^data:image\/jpeg;base64,/);
    assert.deepEqual([...Buffer.from(thumbnail.dataUrl!.split(',')[1]!, 'base64').subarray(0, 2)], [0xff, 0xd8]);
  }
  const [broken] = await value<{ dataUrl: string | null; error?: string }[]>('datasets:thumbnails', {
    source: dataset,
    paths: ['dog/broken.png'],
  });
  assert.equal(broken!.dataUrl, null);
  assert.ok(broken!.error);
  const escape = await failure('datasets:thumbnails', { source: dataset, paths: ['../../etc/passwd'] });
  assert.match(escape.message, /not a file inside the dataset/);
  assert.match((await failure('datasets:thumbnails', { source: dataset, class: 'horse' })).message, /no class "horse"/);
});

test('a split keeps every class in train and val, and saving writes the file lists', async () => {
  const preview = await value<{
    totals: Record<string, number>;
    classes: { name: string; train: number; val: number }[];
    excluded: number;
    savedTo: string | null;
  }>('datasets:split', { source: dataset, val: 0.25, test: 0, seed: 7 });
  assert.equal(preview.savedTo, null);
  assert.equal(preview.excluded, 1);
  assert.equal(preview.totals.train! + preview.totals.val! + preview.totals.test!, 7);
  for (const c of preview.classes) assert.ok(c.train >= 1 && c.val >= 1, c.name);
  const saved = await value<{ savedTo: string }>('datasets:split', { source: dataset, val: 0.25, test: 0, seed: 7, save: true });
  assert.equal(saved.savedTo, path.join(dataset, 'effnet-split.json'));
  assert.equal(JSON.parse(readFileSync(saved.savedTo, 'utf8')).seed, 7);
  assert.match((await failure('datasets:split', { source: dataset, val: 0.6, test: 0.5, seed: 1 })).message, /leave images for training/);
});

test('the augmentation preview is a JPEG grid of the requested size', async () => {
  const augment = {
    crop: { enabled: true, scale: [0.5, 1] },
    flip: { enabled: true, strength: 0.5 },
    rotation: { enabled: false, strength: 10 },
    colorJitter: { enabled: true, strength: 0.3 },
    erasing: { enabled: false, strength: 0.25 },
  };
  const grid = await value<{ dataUrl: string; width: number; height: number; cells: unknown[] }>('datasets:preview', {
    source: dataset,
    imageSize: 32,
    rows: 2,
    cols: 3,
    seed: 5,
    augment,
  });
  assert.match(grid.dataUrl, /^data:image\/jpeg;base64,/);
  assert.equal(grid.cells.length, 6);
  assert.equal(grid.width, 3 * 32 + 4 * 4);
});

test('runs: list by best accuracy, compare with only the differing settings, tags, notes, evaluation and delete', async () => {
  const runsFolder = path.join(home, 'runs');
  const ids = seedExampleRuns(context.store(), { datasetPath: dataset, classes: ['cat', 'dog'], runsFolder });
  const page = await value<{ rows: { id: number; bestValAccuracy: number | null }[]; total: number }>('runs:list', {
    sort: 'bestValAccuracy',
  });
  assert.equal(page.total, 3);
  const best = page.rows.map((r) => r.bestValAccuracy!);
  assert.deepEqual(
    best,
    [...best].sort((a, b) => b - a),
  );
  const failed = await value<{ rows: { id: number }[] }>('runs:list', { status: ['failed'] });
  assert.deepEqual(
    failed.rows.map((r) => r.id),
    [ids[2]],
  );

  const compared = await value<{ differences: { key: string }[]; metrics: Record<string, unknown[]> }>('runs:compare', [ids[0], ids[1]]);
  assert.deepEqual(
    compared.differences.map((d) => d.key),
    ['mode', 'optimizer.learningRate'],
  );
  assert.equal(compared.metrics.val_accuracy!.length, 2);

  events.length = 0;
  assert.deepEqual(await value('runs:tag', { run: ids[0], add: ['keep'], remove: ['baseline'] }), ['keep']);
  assert.deepEqual(events, [{ type: 'runs:changed', runId: ids[0] }]);
  const tagged = await value<{ rows: { id: number }[] }>('runs:list', { tags: ['keep'] });
  assert.deepEqual(
    tagged.rows.map((r) => r.id),
    [ids[0]],
  );
  const note = await value<{ id: number; body: string }>('runs:addNote', ids[1], 'Best so far.');
  assert.equal((await value<{ notes: { body: string }[] }>('runs:get', ids[1])).notes[0]!.body, 'Best so far.');
  assert.deepEqual(await value('runs:deleteNote', note.id), { deleted: true });

  // The confusion matrix shown is the best epoch's (the final model keeps the best weights).
  const evaluation = await value<{ classes: string[]; matrix: number[][]; epoch: number } | null>('runs:evaluation', ids[1]);
  assert.deepEqual(evaluation!.classes, ['cat', 'dog']);
  assert.equal(
    evaluation!.matrix.flat().reduce((a, b) => a + b, 0),
    24,
  );
  assert.equal(evaluation!.epoch, (await value<{ run: { bestEpoch: number } }>('runs:get', ids[1])).run.bestEpoch);
  const fresh = context.store().runs.create({ name: 'never trained', config: {} });
  assert.equal(await value('runs:evaluation', fresh.id), null);
  // Older runs recorded no images per cell; newer epochs carry them, with the dataset to show them from.
  assert.equal((evaluation as unknown as { misclassified: unknown }).misclassified, null);
  assert.equal((evaluation as unknown as { datasetSource: string }).datasetSource, dataset);
  const cell = { actual: 'cat', predicted: 'dog', count: 1, items: [{ path: 'cat/2.png', confidence: 0.7 }] };
  const confusion = {
    labels: ['cat', 'dog'],
    matrix: [
      [3, 1],
      [0, 3],
    ],
  };
  context.store().events.append(fresh.id, { type: 'epoch', payload: { epoch: 1, best: true, confusion, misclassified: [cell] }, time: 1 });
  const withImages = await value<{ misclassified: unknown[]; datasetSource: string | null }>('runs:evaluation', fresh.id);
  assert.deepEqual(withImages.misclassified, [cell]);
  assert.equal(withImages.datasetSource, null, 'a run without a dataset row or config path has no source');

  const detail = await value<{ artifacts: { path: string }[] }>('runs:get', ids[2]);
  const checkpoint = detail.artifacts[0]!.path;
  assert.ok(existsSync(checkpoint));
  assert.deepEqual(await value('runs:delete', ids[2]), { deletedFiles: 1, keptFiles: [] });
  assert.equal(existsSync(checkpoint), false);
  assert.match((await failure('runs:get', ids[2])).message, new RegExp(`${ids[2]}`));
});

test('training channels check the dataset path first and explain a run they cannot control', async () => {
  const missing = await failure('training:start', { config: { dataset: { path: path.join(home, 'no-such-dataset') } } });
  assert.equal(missing.code, 'invalid-path');
  assert.match(missing.message, /config\.dataset\.path: .*no-such-dataset does not exist/);
  const badConfig = await failure('training:start', { config: { dataset: { path: dataset }, optimizer: { learningRate: -1 } } });
  assert.equal(badConfig.code, 'invalid-request');
  assert.match(badConfig.message, /optimizer\.learningRate/);
  const idle = context.store().runs.create({ name: 'not training here', config: {} });
  const error = await failure('training:cancel', idle.id);
  assert.equal(error.code, 'no-job');
  assert.match(error.message, /not training in this session/);
  assert.deepEqual(await value('training:jobs'), []);
});
