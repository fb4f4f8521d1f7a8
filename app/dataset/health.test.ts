import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFile, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { AppError } from '../common/errors.ts';
import { analyseDataset, checkHealth, IMBALANCE_RATIO, type IssueKind } from './health.ts';
import { openDataset } from './readers/registry.ts';
import { scanItems } from './scan.ts';
import { emptyFolder, greyPng, jpeg, png, text, writeDataset, type FileSpec } from './test-datasets.ts';

/** n distinct images under `folder`, numbered from `start`. */
function images(folder: string, count: number, start: number): Record<string, FileSpec> {
  return Object.fromEntries(Array.from({ length: count }, (_, i) => [`${folder}/${i}.png`, png(start + i)]));
}

interface Case {
  name: string;
  files: Record<string, FileSpec>;
  /** What to open, relative to the dataset folder (default: the folder). */
  open?: string;
  format?: string;
  classes?: [string, number][];
  /** Exactly the issues expected, as [kind, path, message pattern]. */
  issues?: [IssueKind, string, RegExp?][];
  /** The dataset cannot be opened at all: the error code and message. */
  error?: [string, RegExp];
}

const CASES: Case[] = [
  {
    name: 'a clean dataset has no issues',
    files: { ...images('cat', 3, 0), ...images('dog', 3, 10) },
    format: 'class-folders',
    classes: [
      ['cat', 3],
      ['dog', 3],
    ],
    issues: [],
  },
  {
    name: 'an empty class folder',
    files: { ...images('cat', 2, 0), dog: emptyFolder },
    classes: [
      ['cat', 2],
      ['dog', 0],
    ],
    issues: [['empty-class', 'dog', /class "dog" has no images/]],
  },
  {
    name: 'a single-image class',
    files: { ...images('cat', 3, 0), ...images('dog', 1, 10) },
    issues: [['small-class', 'dog', /only 1 image/]],
  },
  {
    name: `heavy imbalance (${IMBALANCE_RATIO}:1)`,
    files: { ...images('cat', 2 * IMBALANCE_RATIO, 0), ...images('dog', 2, 100) },
    issues: [['imbalance', '.', /"cat" has 20 images, "dog" has 2 \(10\.0:1.*class weights/]],
  },
  {
    name: 'imbalance just under the threshold is not reported',
    files: { ...images('cat', 19, 0), ...images('dog', 2, 100) },
    issues: [],
  },
  {
    name: 'a duplicate within a class',
    files: { ...images('cat', 2, 0), 'cat/copy.png': png(1), ...images('dog', 2, 10) },
    classes: [
      ['cat', 3],
      ['dog', 2],
    ],
    issues: [['duplicate', 'cat/copy.png', /^duplicate of cat\/1\.png \(same class "cat"\)$/]],
  },
  {
    name: 'a duplicate across classes is a leak',
    files: { ...images('cat', 2, 0), ...images('dog', 2, 10), 'dog/stolen.png': png(0) },
    issues: [['duplicate', 'dog/stolen.png', /leak across classes: identical to cat\/0\.png \("cat"\) but labelled "dog"/]],
  },
  {
    name: 'a duplicate across splits is a leak',
    files: { ...images('train/cat', 2, 0), ...images('train/dog', 2, 10), 'val/cat/again.png': png(0), 'val/dog/x.png': png(20) },
    format: 'split-folders',
    issues: [
      [
        'duplicate',
        'val/cat/again.png',
        /leak across splits: identical to train\/cat\/0\.png in train, this copy is in val; it inflates validation/,
      ],
    ],
  },
  {
    name: 'a truncated JPEG',
    files: { 'cat/good.jpg': jpeg(1), 'cat/cut.jpg': jpeg(2, true), ...images('cat', 1, 0), ...images('dog', 2, 10) },
    classes: [
      ['cat', 2],
      ['dog', 2],
    ],
    issues: [['unreadable', 'cat/cut.jpg', /truncated/]],
  },
  {
    name: 'a zero-byte file',
    files: { ...images('cat', 2, 0), ...images('dog', 2, 10), 'dog/zero.jpg': { bytes: new Uint8Array(0) } },
    issues: [['unreadable', 'dog/zero.jpg', /empty \(0 bytes\)/]],
  },
  {
    name: 'a text file named .jpg',
    files: { ...images('cat', 2, 0), ...images('dog', 2, 10), 'dog/notes.jpg': text('shopping list') },
    issues: [['unreadable', 'dog/notes.jpg', /contains text/]],
  },
  {
    name: 'a class whose only images are unreadable is empty',
    files: { ...images('cat', 2, 0), 'dog/a.jpg': text('x'), 'dog/b.png': { bytes: new Uint8Array(0) } },
    issues: [
      ['unreadable', 'dog/a.jpg'],
      ['unreadable', 'dog/b.png'],
      ['empty-class', 'dog', /no readable images \(2 unreadable\)/],
    ],
  },
  {
    name: 'hidden and system files are ignored and counted',
    files: {
      ...images('cat', 2, 0),
      ...images('dog', 2, 10),
      'cat/.DS_Store': text('x'),
      'cat/._0.png': text('AppleDouble'),
      'dog/Thumbs.db': text('x'),
      '.git/config': text('[core]'),
      '__MACOSX/cat/._1.png': text('x'),
    },
    classes: [
      ['cat', 2],
      ['dog', 2],
    ],
    issues: [
      ['ignored', '.git', /hidden/],
      ['ignored', '__MACOSX', /hidden/],
      ['ignored', 'cat/.DS_Store', /hidden/],
      ['ignored', 'cat/._0.png', /hidden/],
      ['ignored', 'dog/Thumbs.db', /operating-system/],
    ],
  },
  {
    name: 'non-image files and stray root images are ignored',
    files: {
      ...images('cat', 2, 0),
      ...images('dog', 2, 10),
      'cat/readme.txt': text('hi'),
      'dog/meta.json': text('{}'),
      'notes.md': text('#'),
      'stray.png': png(50),
    },
    issues: [
      ['ignored', 'cat/readme.txt', /not an image/],
      ['ignored', 'dog/meta.json', /not an image/],
      ['ignored', 'notes.md', /not an image/],
      ['ignored', 'stray.png', /outside any class/],
    ],
  },
  {
    name: 'Unicode class names are kept exactly and sorted by code point',
    files: {
      ...images('кошка', 2, 0),
      ...images('猫', 2, 10),
      ...images('🐶 dog', 2, 20),
      ...images('Ünïcödé', 2, 30),
      ...images('cat', 2, 40),
    },
    classes: [
      ['cat', 2],
      ['Ünïcödé', 2],
      ['кошка', 2],
      ['猫', 2],
      ['🐶 dog', 2],
    ],
    issues: [],
  },
  {
    name: 'nested sub-folders belong to their first-level class',
    files: { 'cat/indoor/a.png': png(1), 'cat/outdoor/deep/b.png': png(2), ...images('dog', 2, 10) },
    classes: [
      ['cat', 2],
      ['dog', 2],
    ],
    issues: [],
  },
  {
    name: 'a pre-split class with no validation images',
    files: { ...images('train/cat', 2, 0), ...images('train/dog', 2, 10), ...images('valid/cat', 1, 20) },
    format: 'split-folders',
    issues: [['empty-class', 'valid', /class "dog" has no images in val: it is never validated/]],
  },
  {
    name: 'a manifest listing a missing file',
    files: {
      'labels.csv': text('path,label\nimages/a.png,cat\nimages/b.png,cat\nimages/c.png,dog\nimages/gone.png,dog\nimages/d.png,dog\n'),
      'images/a.png': png(1),
      'images/b.png': png(2),
      'images/c.png': png(3),
      'images/d.png': png(4),
    },
    open: 'labels.csv',
    format: 'manifest',
    classes: [
      ['cat', 2],
      ['dog', 2],
    ],
    issues: [['unreadable', 'images/gone.png', /does not exist/]],
  },
  {
    name: 'a manifest with bad lines names every bad line',
    files: { 'labels.csv': text('path,label\na.png,cat\nb.png,cat,extra\nc.png,dog\n"d.png",\n'), 'a.png': png(1) },
    open: 'labels.csv',
    error: ['bad-manifest', /labels\.csv \(2 problems\): line 3: expected 2 fields, found 3.*; line 5: the label is empty/],
  },
  { name: 'a missing path', files: {}, open: 'nothing-here', error: ['not-found', /nothing-here does not exist/] },
  { name: 'a folder without class folders', files: { 'a.png': png(1) }, error: ['dataset-empty', /has no class folders/] },
];

let tmp = '';
before(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'effnet-health-'));
});
after(() => rm(tmp, { recursive: true, force: true }));

let caseNumber = 0;
for (const c of CASES) {
  test(`dataset health: ${c.name}`, async () => {
    const root = path.join(tmp, `case${caseNumber++}`);
    await writeDataset(root, c.files);
    const target = path.join(root, c.open ?? '');
    if (c.error) {
      await assert.rejects(openDataset(target), (error: unknown) => {
        assert.ok(error instanceof AppError);
        assert.equal(error.code, c.error![0]);
        assert.match(error.message, c.error![1]);
        return true;
      });
      return;
    }
    const report = await checkHealth(await openDataset(target), { concurrency: 3 });
    if (c.format) assert.equal(report.format, c.format);
    if (c.classes)
      assert.deepEqual(
        report.classes.map((k) => [k.name, k.count]),
        c.classes,
      );
    const actual = report.issues.map((issue) => `${issue.kind} ${issue.path}`);
    assert.deepEqual(
      actual,
      c.issues!.map(([kind, where]) => `${kind} ${where}`),
    );
    c.issues!.forEach(([, , pattern], i) => pattern && assert.match(report.issues[i]!.message, pattern));
    const readable = report.classes.reduce((sum, k) => sum + k.count, 0);
    assert.equal(report.totals.readable, readable);
  });
}

test('sizes, greyscale share, shares and formats are measured from the decoded images', async () => {
  const root = path.join(tmp, 'stats');
  await writeDataset(root, {
    'a/1.png': png(1, [4, 2]),
    'a/2.png': png(2, [6, 3]),
    'a/3.png': greyPng(3),
    'b/4.jpg': jpeg(4),
  });
  const report = await checkHealth(await openDataset(root));
  assert.deepEqual(report.sizes, { width: { min: 2, median: 5, max: 32 }, height: { min: 2, median: 2.5, max: 32 } });
  assert.equal(report.grayscaleShare, 0.25);
  assert.deepEqual(report.formats, { png: 3, jpeg: 1 });
  assert.deepEqual(
    report.classes.map((c) => c.share),
    [0.75, 0.25],
  );
});

test('the fingerprint is the same for the same content anywhere, and changes with any byte, name or label', async () => {
  const files = { ...images('cat', 3, 0), ...images('dog', 3, 10) };
  const fingerprintOf = async (root: string) => (await checkHealth(await openDataset(root))).fingerprint;
  const first = path.join(tmp, 'fp-a');
  const second = path.join(tmp, 'fp-b', 'nested', 'elsewhere');
  await writeDataset(first, files);
  await writeDataset(second, files);
  const original = await fingerprintOf(first);
  assert.match(original, /^[0-9a-f]{64}$/);
  assert.equal(await fingerprintOf(second), original);
  assert.equal(await fingerprintOf(first), original, 'stable across runs');

  await appendFile(path.join(second, 'cat', '0.png'), Buffer.from([0]));
  const oneByte = await fingerprintOf(second);
  assert.notEqual(oneByte, original);
  await rename(path.join(second, 'cat', '1.png'), path.join(second, 'cat', '1b.png'));
  const renamed = await fingerprintOf(second);
  assert.notEqual(renamed, oneByte);
  await rename(path.join(second, 'cat', '2.png'), path.join(second, 'dog', '2.png'));
  assert.notEqual(await fingerprintOf(second), renamed, 'relabelling changes it');
});

test('the fingerprint ignores scan order and Unicode normalisation of names', async () => {
  const root = path.join(tmp, 'fp-order');
  await writeDataset(root, { ...images('cafe\u0301', 2, 0), ...images('dog', 2, 10) });
  const dataset = await openDataset(root);
  const scanned = await scanItems(dataset.root, dataset.items);
  const forward = analyseDataset(dataset, scanned).fingerprint;
  assert.equal(analyseDataset(dataset, [...scanned].reverse()).fingerprint, forward);
  const composed = scanned.map((s) => ({
    ...s,
    item: { ...s.item, path: s.item.path.normalize('NFC'), label: s.item.label.normalize('NFC') },
  }));
  assert.equal(analyseDataset({ ...dataset, classes: dataset.classes.map((c) => c.normalize('NFC')) }, composed).fingerprint, forward);
});

test('the scan reports progress for every file, honours cancellation and keeps concurrency bounded', async () => {
  const root = path.join(tmp, 'progress');
  await writeDataset(root, images('cat', 12, 0));
  await writeFile(path.join(root, 'cat', 'bad.jpg'), 'nope');
  const dataset = await openDataset(root);
  const seen: number[] = [];
  await checkHealth(dataset, { concurrency: 2, onProgress: ({ done, total }) => (assert.equal(total, 13), seen.push(done)) });
  assert.deepEqual(
    seen,
    Array.from({ length: 13 }, (_, i) => i + 1),
  );
  const controller = new AbortController();
  controller.abort();
  await assert.rejects(checkHealth(dataset, { signal: controller.signal }), /cancelled/);
});
