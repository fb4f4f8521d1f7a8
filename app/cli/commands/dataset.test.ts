import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { ISSUE_KINDS } from '../../dataset/health.ts';
import { jpeg, png, text, writeDataset, type FileSpec } from '../../dataset/test-datasets.ts';
import { main } from '../main.ts';
import { displayWidth } from './dataset-inspect.ts';

let tmp = '';
let root = '';
before(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'effnet-dataset-cli-'));
  root = path.join(tmp, 'pets');
  const files: Record<string, FileSpec> = {
    'cat/broken.jpg': jpeg(1, true),
    'cat/.DS_Store': text('x'),
    'dog/a.png': png(100),
    'dog/copy-of-cat.png': png(0),
    'dog/readme.txt': text('hi'),
    '猫/only.png': png(200),
  };
  for (let i = 0; i < 20; i++) files[`cat/${i}.png`] = png(i);
  await writeDataset(root, files);
});
after(() => rm(tmp, { recursive: true, force: true }));

async function run(args: string[]) {
  const capture = () => {
    const stream = new PassThrough();
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    return { stream, text: () => Buffer.concat(chunks).toString('utf8') };
  };
  const stdout = capture();
  const stderr = capture();
  const code = await main(args, { stdout: stdout.stream, stderr: stderr.stream, env: {}, cwd: tmp, signal: new AbortController().signal });
  return { code, stdout: stdout.text(), stderr: stderr.text() };
}

test('dataset inspect --json reports classes, issues with relative paths, and a fingerprint', async () => {
  const { code, stdout } = await run(['dataset', 'inspect', 'pets', '--json']);
  assert.equal(code, 0);
  const report = JSON.parse(stdout);
  assert.deepEqual(
    report.classes.map((c: { name: string; count: number }) => [c.name, c.count]),
    [
      ['cat', 20],
      ['dog', 2],
      ['猫', 1],
    ],
  );
  assert.match(report.fingerprint, /^[0-9a-f]{64}$/);
  assert.ok(report.issues.every((i: { kind: string }) => (ISSUE_KINDS as readonly string[]).includes(i.kind)));
  const issues = report.issues.map((i: { kind: string; path: string }) => `${i.kind} ${i.path}`);
  assert.deepEqual(issues, [
    'unreadable cat/broken.jpg',
    'duplicate dog/copy-of-cat.png',
    'small-class 猫',
    'imbalance .',
    'ignored cat/.DS_Store',
    'ignored dog/readme.txt',
  ]);
  assert.match(report.issues[1].message, /leak/);
  assert.equal(report.totals.readable, 23);
  assert.equal(report.format, 'class-folders');
});

test('dataset inspect prints a class table with bars and the issues grouped by kind', async () => {
  const { code, stdout, stderr } = await run(['dataset', 'inspect', path.join(tmp, 'pets')]);
  assert.equal(code, 0, stderr);
  assert.match(stdout, /^cat +20 +87\.0% +#{30}$/m);
  assert.match(stdout, /^dog +2 +8\.7% +#{3}$/m);
  assert.match(stdout, /^猫 +1 +4\.3% +#{2}$/m);
  assert.match(stdout, /Issues \(6\):\n {2}unreadable \(1\)\n {4}cat\/broken\.jpg {2}unreadable: the file is truncated/);
  assert.match(stdout, / {2}ignored \(2\): 1 hidden, 1 not-an-image/);
  assert.match(stdout, /image width {2}2 to 2 px/);
  assert.equal(stderr, '', 'no progress bar when stderr is not a terminal');
  const lines = stdout.split('\n').filter((line) => /^(cat|dog|猫) /.test(line));
  assert.equal(
    new Set(lines.map((line) => displayWidth(line.replace(/#+$/, '').trimEnd().replace(/%.*/, '%')))).size,
    1,
    'columns line up',
  );
});

test('dataset inspect on a missing path or without a path fails clearly', async () => {
  const missing = await run(['dataset', 'inspect', 'no-such-folder']);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /no-such-folder does not exist/);
  const none = await run(['dataset', 'inspect']);
  assert.equal(none.code, 2);
  assert.match(none.stderr, /give the dataset folder or manifest file/);
});

test('dataset split writes a reproducible split, --check verifies it, and a deleted file breaks it', async () => {
  const first = await run(['dataset', 'split', 'pets', '--val', '0.25', '--seed', '5', '--json']);
  assert.equal(first.code, 0, first.stderr);
  const result = JSON.parse(first.stdout);
  assert.equal(result.out, path.join(root, 'effnet-split.json'));
  const saved = JSON.parse(await readFile(result.out, 'utf8'));
  assert.equal(saved.seed, 5);
  assert.deepEqual(saved.excluded, ['cat/broken.jpg']);
  assert.deepEqual([saved.train.length, saved.val.length, saved.test.length], [17, 6, 0]);
  assert.ok(saved.val.includes('dog/a.png') !== saved.val.includes('dog/copy-of-cat.png'), 'dog has 2 images: one in val');
  assert.ok(saved.train.includes('猫/only.png'));

  const again = await run(['dataset', 'split', 'pets', '--val', '0.25', '--seed', '5', '--out', 'again.json']);
  assert.equal(again.code, 0);
  assert.match(again.stdout, /^cat +15 +5 +0$/m);
  assert.deepEqual(JSON.parse(await readFile(path.join(tmp, 'again.json'), 'utf8')), saved, 'same seed, same split');

  const check = await run(['dataset', 'split', 'pets', '--check', 'again.json']);
  assert.equal(check.code, 0, check.stderr);
  assert.match(check.stdout, /matches .*train 17, val 6, test 0/);
  assert.doesNotMatch(check.stdout, /in no split|fingerprint differs/);

  await rm(path.join(root, 'cat', '3.png'));
  const broken = await run(['dataset', 'split', 'pets', '--check', 'again.json']);
  assert.equal(broken.code, 1);
  assert.match(broken.stderr, /no longer matches the dataset: 1 listed file\(s\) are missing: cat\/3\.png/);
});

test('dataset split refuses ratios that leave nothing to train on', async () => {
  const { code, stderr } = await run(['dataset', 'split', 'pets', '--val', '0.7', '--test', '0.3']);
  assert.equal(code, 1);
  assert.match(stderr, /must leave images for training/);
  const usage = await run(['dataset', 'split', 'pets', '--val', '2']);
  assert.equal(usage.code, 2);
  assert.match(usage.stderr, /--val must be a number from 0 to below 1/);
});
