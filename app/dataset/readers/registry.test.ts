import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { AppError } from '../../common/errors.ts';
import { png, text, writeDataset, type FileSpec } from '../test-datasets.ts';
import type { DatasetFormat, DatasetItem } from '../types.ts';
import { parseDelimited } from './csv.ts';
import { DATASET_READERS, openDataset } from './registry.ts';

let tmp = '';
let counter = 0;
before(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'effnet-readers-'));
});
after(() => rm(tmp, { recursive: true, force: true }));

async function make(files: Record<string, FileSpec>): Promise<string> {
  const root = path.join(tmp, `d${counter++}`);
  await writeDataset(root, files);
  return root;
}

/** One sample per format (a Record, so a new format does not compile without one). */
const SAMPLES: Record<DatasetFormat, { files: Record<string, FileSpec>; open?: string; classes: string[]; items: DatasetItem[] }> = {
  'class-folders': {
    files: { 'Dog/b.PNG': png(2), 'cat/a.png': png(1), 'cat/sub/c.jpeg': png(3) },
    classes: ['Dog', 'cat'],
    items: [
      { path: 'Dog/b.PNG', label: 'Dog' },
      { path: 'cat/a.png', label: 'cat' },
      { path: 'cat/sub/c.jpeg', label: 'cat' },
    ],
  },
  'split-folders': {
    files: {
      'train/cat/a.png': png(1),
      'train/dog/b.png': png(2),
      'validation/cat/c.png': png(3),
      'TEST/dog/d.png': png(4),
      'extra/x.png': png(5),
    },
    classes: ['cat', 'dog'],
    items: [
      { path: 'TEST/dog/d.png', label: 'dog', split: 'test' },
      { path: 'train/cat/a.png', label: 'cat', split: 'train' },
      { path: 'train/dog/b.png', label: 'dog', split: 'train' },
      { path: 'validation/cat/c.png', label: 'cat', split: 'val' },
    ],
  },
  manifest: {
    files: { 'meta/list.csv': text('path,label\n../img/1.png,cat\n../img/2.png,dog\n'), 'img/1.png': png(1), 'img/2.png': png(2) },
    open: 'meta/list.csv',
    classes: ['cat', 'dog'],
    items: [
      { path: '../img/1.png', label: 'cat' },
      { path: '../img/2.png', label: 'dog' },
    ],
  },
};

for (const reader of DATASET_READERS) {
  test(`reader ${reader.format} is detected and reads its sample layout`, async () => {
    const sample = SAMPLES[reader.format];
    const root = await make(sample.files);
    const target = path.join(root, sample.open ?? '');
    for (const dataset of [await openDataset(target), await openDataset(target, { format: reader.format })]) {
      assert.equal(dataset.format, reader.format);
      assert.deepEqual(dataset.classes, sample.classes);
      assert.deepEqual(dataset.items, sample.items);
      assert.equal(dataset.source, target);
    }
    // Forcing any other reader onto this sample fails with a clear error.
    for (const other of DATASET_READERS.filter((r) => r.format !== reader.format && r.format !== 'class-folders')) {
      await assert.rejects(openDataset(target, { format: other.format }), /is not a /);
    }
  });
}

test('a split layout reports the folders that are not splits, and a lone train/ folder is just a class', async () => {
  const split = await openDataset(await make(SAMPLES['split-folders'].files));
  assert.deepEqual(split.ignored, [{ path: 'extra', reason: 'not-a-split' }]);
  assert.deepEqual(split.splits, ['train', 'val', 'test']);
  const lone = await openDataset(await make({ 'train/a.png': png(1), 'cats/b.png': png(2) }));
  assert.equal(lone.format, 'class-folders');
  assert.deepEqual(lone.classes, ['cats', 'train']);
  await assert.rejects(
    openDataset(await make({ 'train/a/1.png': png(1), 'val/a/2.png': png(2), 'valid/a/3.png': png(3) })),
    /two folders for the val split: val\/ and valid\/|two folders for the val split: valid\/ and val\//,
  );
});

const CSV_CASES: [string, string, string, [number, string[]][]][] = [
  [
    'plain',
    ',',
    'a,b\nc,d\n',
    [
      [1, ['a', 'b']],
      [2, ['c', 'd']],
    ],
  ],
  [
    'CRLF, a BOM and no final newline',
    ',',
    '\ufeffa,b\r\nc,d',
    [
      [1, ['a', 'b']],
      [2, ['c', 'd']],
    ],
  ],
  ['quoted separators, escaped quotes', ',', 'x,"a, ""b"""\n', [[1, ['x', 'a, "b"']]]],
  [
    'a line break inside quotes keeps line numbers right',
    ',',
    '"multi\nline",1\nnext,2\n',
    [
      [1, ['multi\nline', '1']],
      [3, ['next', '2']],
    ],
  ],
  [
    'blank lines are skipped',
    ',',
    'a,b\n\n\nc,d\n',
    [
      [1, ['a', 'b']],
      [4, ['c', 'd']],
    ],
  ],
  ['tabs', '\t', 'a b\tc\n', [[1, ['a b', 'c']]]],
  ['empty fields', ',', 'a,,\n', [[1, ['a', '', '']]]],
];
for (const [name, delimiter, input, expected] of CSV_CASES) {
  test(`CSV parsing: ${name}`, () => {
    assert.deepEqual(
      parseDelimited(input, delimiter).map((row) => [row.line, row.fields]),
      expected,
    );
  });
}

test('CSV syntax errors name the line', () => {
  assert.throws(() => parseDelimited('a,b\n"open,c\n', ','), /line 2: a quoted field is never closed/);
  assert.throws(() => parseDelimited('a,b\n"x"y,c\n', ','), /line 2: unexpected text after a closing quote/);
});

const MANIFEST_CASES: { name: string; file: string; content: string; items?: DatasetItem[]; error?: RegExp }[] = [
  {
    name: 'TSV with a split column and header aliases',
    file: 'm.tsv',
    content: 'Filename\tClass\tSubset\na.png\tcat\ttrain\nb.png\tdog\tvalid\n',
    items: [
      { path: 'a.png', label: 'cat', split: 'train' },
      { path: 'b.png', label: 'dog', split: 'val' },
    ],
  },
  {
    name: 'semicolons, quotes, Windows separators, ./ and spaces around fields',
    file: 'm.csv',
    content: 'label;path\n"big; cat";.\\img\\a b.png\n dog ; ./img/c.png \n',
    items: [
      { path: 'img/a b.png', label: 'big; cat' },
      { path: 'img/c.png', label: 'dog' },
    ],
  },
  {
    name: 'no header',
    file: 'm.csv',
    content: 'a.png,cat\nb.png,dog\n',
    error: /line 1: the header must name a path column and a label column/,
  },
  { name: 'an empty file', file: 'm.csv', content: '', error: /line 1: the file is empty/ },
  { name: 'a header only', file: 'm.csv', content: 'path,label\n', error: /lists no images/ },
  {
    name: 'a file listed twice',
    file: 'm.csv',
    content: 'path,label\na.png,cat\n./a.png,dog\n',
    error: /line 3: a\.png is already listed on line 2/,
  },
  {
    name: 'an unknown split',
    file: 'm.csv',
    content: 'path,label,split\na.png,cat,holdout\n',
    error: /line 2: the split must be train, val or test, found "holdout"/,
  },
  { name: 'an unclosed quote', file: 'm.csv', content: 'path,label\n"a.png,cat\n', error: /line 2: a quoted field is never closed/ },
  { name: 'an empty path', file: 'm.csv', content: 'path,label\n,cat\n', error: /line 2: the path is empty/ },
];
for (const c of MANIFEST_CASES) {
  test(`manifest: ${c.name}`, async () => {
    const root = await make({ [c.file]: text(c.content) });
    const read = openDataset(path.join(root, c.file));
    if (c.error) {
      await assert.rejects(read, (error: unknown) => {
        assert.ok(error instanceof AppError);
        assert.equal(error.code, 'bad-manifest');
        assert.match(error.message, c.error!);
        assert.ok(error.message.includes(c.file));
        return true;
      });
    } else {
      assert.deepEqual((await read).items, c.items);
    }
  });
}

test('a file that is neither a manifest nor a folder is rejected with the supported layouts', async () => {
  const root = await make({ 'photo.png': png(1) });
  await assert.rejects(openDataset(path.join(root, 'photo.png')), (error: unknown) => {
    assert.ok(error instanceof AppError && error.code === 'dataset-format');
    assert.match(error.hint ?? '', /manifest/);
    return true;
  });
});
