import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { runCli } from '../test-support.ts';

let folder = '';

function cli(args: string[]) {
  return runCli(args, { cwd: folder });
}

before(async () => {
  folder = mkdtempSync(path.join(os.tmpdir(), 'effnet-preview-cli-'));
  for (const label of ['cat', 'dog']) {
    mkdirSync(path.join(folder, 'data', label), { recursive: true });
    for (let i = 0; i < 3; i++) {
      const data = Buffer.alloc(50 * 40 * 3).map((_, k) => (k * (i + 1) + (label === 'cat' ? 0 : 90)) % 256);
      await sharp(data, { raw: { width: 50, height: 40, channels: 3 } })
        .png()
        .toFile(path.join(folder, 'data', label, `${i}.png`));
    }
  }
});
after(() => rmSync(folder, { recursive: true, force: true }));

const base = ['dataset', 'preview', 'data', '--rows', '2', '--cols', '3', '--image-size', '32', '--seed', '5'];

test('`effnet dataset preview` writes a PNG grid of labelled samples from a dataset folder', async () => {
  const { code, stdout, stderr } = await cli([...base, '--out', 'grid.png', '--json']);
  assert.equal(code, 0, stderr);
  const report = JSON.parse(stdout) as { out: string; seed: number; cells: { path: string; label: string }[] };
  assert.equal(report.out, path.join(folder, 'grid.png'));
  assert.equal(report.seed, 5);
  assert.equal(report.cells.length, 6);
  for (const cell of report.cells) assert.equal(cell.label, cell.path.split('/')[0]);
  const meta = await sharp(path.join(folder, 'grid.png')).metadata();
  assert.deepEqual([meta.format, meta.width, meta.height], ['png', 3 * 32 + 4 * 4, 2 * (32 + 18) + 3 * 4]);
});

test('every augmentation switched off gives exactly the eval preview', async () => {
  const off = ['--no-crop', '--no-flip', '--no-rotation', '--no-color-jitter', '--no-erasing'];
  assert.equal((await cli([...base, '--out', 'off.png', ...off])).code, 0);
  assert.equal((await cli([...base, '--out', 'eval.png', '--mode', 'eval'])).code, 0);
  assert.equal((await cli([...base, '--out', 'train.png'])).code, 0);
  const read = (file: string) => readFileSync(path.join(folder, file));
  assert.deepEqual(read('off.png'), read('eval.png'));
  assert.notDeepEqual(read('train.png'), read('eval.png'));
});

test('bad options are usage errors that name the option', async () => {
  const cases: [string[], RegExp][] = [
    [['dataset', 'preview', 'data'], /--out FILE\.png is required/],
    [['dataset', 'preview', 'data', '--out', 'grid.jpg'], /--out must name a \.png file/],
    [[...base, '--out', 'g.png', '--flip', '2'], /--flip must be a probability/],
    [[...base, '--out', 'g.png', '--mode', 'test'], /--mode must be train or eval/],
    [[...base, '--out', 'g.png', '--split', 'val'], /has no 'val' images/],
  ];
  for (const [args, message] of cases) {
    const { code, stderr } = await cli(args);
    assert.equal(code, 2, args.join(' '));
    assert.match(stderr, message);
  }
});
