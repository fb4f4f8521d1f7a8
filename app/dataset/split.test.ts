import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { AppError } from '../common/errors.ts';
import type { ScannedItem } from './scan.ts';
import { applySplit, loadSplit, makeSplit, saveSplit, targetCounts, type SavedSplit, type SplitRatios } from './split.ts';
import type { Dataset, DatasetItem, SplitName } from './types.ts';

/** A dataset in memory: class → image count; each image has its own content hash unless `hashes` says otherwise. */
function dataset(
  counts: Record<string, number>,
  options: { splits?: SplitName[]; hashes?: Record<string, string>; broken?: string[] } = {},
) {
  const items: DatasetItem[] = [];
  for (const [label, count] of Object.entries(counts)) {
    for (let i = 0; i < count; i++) items.push({ path: `${label}/${String(i).padStart(3, '0')}.png`, label });
  }
  const value: Dataset = {
    root: '/data',
    source: '/data',
    format: 'class-folders',
    classes: Object.keys(counts).sort(),
    items,
    ignored: [],
    classPaths: {},
    splits: options.splits ?? [],
  };
  const scanned: ScannedItem[] = items.map((item) => ({
    item,
    hash: options.hashes?.[item.path] ?? `hash:${item.path}`,
    ...(options.broken?.includes(item.path) ? { error: 'broken' } : {}),
  }));
  return { dataset: value, scanned };
}

const split = (counts: Record<string, number>, ratios: SplitRatios, seed = 1, extra = {}) => {
  const { dataset: d, scanned } = dataset(counts, extra);
  return makeSplit(d, scanned, { ratios, seed, fingerprint: 'f' });
};
const perClass = (s: SavedSplit, label: string) =>
  (['train', 'val', 'test'] as const).map((name) => s[name].filter((p) => p.startsWith(`${label}/`)).length);

const TARGETS: [number, SplitRatios, { val: number; test: number }][] = [
  [0, { val: 0.2, test: 0 }, { val: 0, test: 0 }],
  [1, { val: 0.2, test: 0.1 }, { val: 0, test: 0 }],
  [2, { val: 0.2, test: 0 }, { val: 1, test: 0 }],
  [2, { val: 0.2, test: 0.2 }, { val: 1, test: 0 }],
  [3, { val: 0.2, test: 0.1 }, { val: 1, test: 1 }],
  [10, { val: 0.2, test: 0 }, { val: 2, test: 0 }],
  [10, { val: 0.25, test: 0.15 }, { val: 3, test: 2 }],
  [100, { val: 0.2, test: 0.1 }, { val: 20, test: 10 }],
  [5, { val: 0, test: 0.2 }, { val: 0, test: 1 }],
  [4, { val: 0.5, test: 0.45 }, { val: 2, test: 1 }],
];
for (const [size, ratios, expected] of TARGETS) {
  test(`a class of ${size} with val ${ratios.val}, test ${ratios.test} gets ${expected.val} val and ${expected.test} test`, () => {
    assert.deepEqual(targetCounts(size, ratios), expected);
  });
}

test('the split is stratified, deterministic for a seed, and differs between seeds', () => {
  const counts = { cat: 50, dog: 30, fox: 20 };
  const a = split(counts, { val: 0.2, test: 0.1 }, 7);
  assert.deepEqual(split(counts, { val: 0.2, test: 0.1 }, 7), a);
  assert.notDeepEqual(split(counts, { val: 0.2, test: 0.1 }, 8).val, a.val);
  assert.deepEqual(perClass(a, 'cat'), [35, 10, 5]);
  assert.deepEqual(perClass(a, 'dog'), [21, 6, 3]);
  assert.deepEqual(perClass(a, 'fox'), [14, 4, 2]);
  const all = [...a.train, ...a.val, ...a.test];
  assert.equal(new Set(all).size, 100, 'every image in exactly one split');
  assert.deepEqual(a.val, [...a.val].sort(), 'lists are sorted');
});

test('every class is in train, and in val from 2 images, even with tiny classes', () => {
  const s = split({ one: 1, two: 2, three: 3, many: 40 }, { val: 0.1, test: 0.1 });
  assert.deepEqual(perClass(s, 'one'), [1, 0, 0]);
  assert.deepEqual(perClass(s, 'two'), [1, 1, 0]);
  assert.deepEqual(perClass(s, 'three'), [1, 1, 1]);
  assert.deepEqual(perClass(s, 'many'), [32, 4, 4]);
});

test('adding a class does not reshuffle the others', () => {
  const before = split({ cat: 20, dog: 20 }, { val: 0.2, test: 0 }, 3);
  const after = split({ cat: 20, dog: 20, eel: 9 }, { val: 0.2, test: 0 }, 3);
  assert.deepEqual(
    after.val.filter((p) => !p.startsWith('eel/')),
    before.val,
  );
});

test('identical files of one class land in the same split, and unreadable files are left out', () => {
  const hashes = Object.fromEntries(['cat/000.png', 'cat/001.png', 'cat/002.png'].map((p) => [p, 'same']));
  for (let seed = 0; seed < 20; seed++) {
    const s = split({ cat: 10 }, { val: 0.3, test: 0 }, seed, { hashes, broken: ['cat/009.png'] });
    const where = ['cat/000.png', 'cat/001.png', 'cat/002.png'].map((p) => (s.val.includes(p) ? 'val' : 'train'));
    assert.equal(new Set(where).size, 1, `seed ${seed}: copies split apart: ${where}`);
    assert.ok(![...s.train, ...s.val].includes('cat/009.png'));
    assert.deepEqual(s.excluded, ['cat/009.png']);
    assert.ok(s.train.length >= 1 && s.val.length >= 1);
  }
});

test('a pre-split dataset keeps its splits as given, whatever the ratios', () => {
  const { dataset: d, scanned } = dataset({}, { splits: ['train', 'val'] });
  const items: DatasetItem[] = [
    { path: 'train/a/1.png', label: 'a', split: 'train' },
    { path: 'train/a/2.png', label: 'a', split: 'train' },
    { path: 'train/a/3.png', label: 'a', split: 'train' },
    { path: 'val/a/4.png', label: 'a', split: 'val' },
  ];
  const s = makeSplit({ ...d, classes: ['a'], items }, [...scanned, ...items.map((item) => ({ item, hash: item.path }))], {
    ratios: { val: 0.5, test: 0.2 },
    seed: 1,
    fingerprint: 'f',
  });
  assert.equal(s.strategy, 'given');
  assert.deepEqual([s.train, s.val, s.test], [['train/a/1.png', 'train/a/2.png', 'train/a/3.png'], ['val/a/4.png'], []]);
  assert.deepEqual(s.ratios, { val: 0.25, test: 0 });
});

test('bad ratios and seeds are refused', () => {
  assert.throws(() => split({ a: 3 }, { val: 0.6, test: 0.4 }), /must leave images for training/);
  assert.throws(() => split({ a: 3 }, { val: -0.1, test: 0 }), /val ratio must be at least 0/);
  assert.throws(() => split({ a: 3 }, { val: 0.2, test: 0 }, 1.5), /seed must be a whole number/);
});

let tmp = '';
before(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'effnet-split-'));
});
after(() => rm(tmp, { recursive: true, force: true }));

test('a saved split loads back identically, leaves no temp file, and reproduces the lists', async () => {
  const { dataset: d, scanned } = dataset({ cat: 12, dog: 8 }, { broken: ['dog/007.png'] });
  const saved = makeSplit(d, scanned, { ratios: { val: 0.25, test: 0 }, seed: 9, fingerprint: 'abc' });
  const file = path.join(tmp, 'split.json');
  await saveSplit(file, saved);
  assert.deepEqual(await readdir(tmp), ['split.json']);
  const loaded = await loadSplit(file);
  assert.deepEqual(loaded, saved);
  const applied = applySplit(loaded, d, 'abc');
  assert.deepEqual(
    applied.val.map((item) => item.path),
    saved.val,
  );
  assert.deepEqual(applied.unassigned, [], 'the unreadable file is excluded, not unassigned');
  assert.equal(applied.fingerprintMatches, true);
  assert.equal(applySplit(loaded, d, 'changed').fingerprintMatches, false);
});

test('a saved split that no longer matches the dataset is an error naming the missing files; new files are unassigned', async () => {
  const { dataset: d, scanned } = dataset({ cat: 6, dog: 6 });
  const saved = makeSplit(d, scanned, { ratios: { val: 0.2, test: 0 }, seed: 1, fingerprint: 'f' });
  const shrunk = { ...d, items: d.items.filter((item) => item.path !== 'cat/002.png') };
  assert.throws(
    () => applySplit(saved, shrunk, 'f', 'my-split.json'),
    (error: unknown) =>
      error instanceof AppError &&
      error.code === 'split-mismatch' &&
      /my-split\.json .*1 listed file\(s\) are missing: cat\/002\.png/.test(error.message),
  );
  const grown = { ...d, items: [...d.items, { path: 'dog/new.png', label: 'dog' }] };
  assert.deepEqual(
    applySplit(saved, grown, 'g').unassigned.map((item) => item.path),
    ['dog/new.png'],
  );
});

test('loading a broken split file explains what is wrong', async () => {
  const cases: [string, RegExp][] = [
    ['{not json', /is not valid JSON/],
    ['{"version":1,"seed":1}', /is not a saved split: ratios/],
    [JSON.stringify({ version: 2 }), /version/],
  ];
  for (const [content, message] of cases) {
    const file = path.join(tmp, 'broken.json');
    await writeFile(file, content);
    await assert.rejects(loadSplit(file), message);
  }
  await assert.rejects(loadSplit(path.join(tmp, 'absent.json')), /does not exist/);
  assert.ok((await readFile(path.join(tmp, 'broken.json'), 'utf8')).length > 0);
});
