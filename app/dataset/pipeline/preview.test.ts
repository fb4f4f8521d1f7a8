import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { DEFAULT_AUGMENT, type AugmentConfig } from './config.ts';
import { renderPreviewGrid, type PreviewItem } from './preview.ts';
import { SampleProcessor } from './sample.ts';

let folder = '';
let items: PreviewItem[] = [];

before(async () => {
  folder = mkdtempSync(path.join(os.tmpdir(), 'effnet-preview-'));
  for (let i = 0; i < 5; i++) {
    const data = Buffer.alloc(60 * 45 * 3).map((_, k) => (k * (i + 2)) % 256);
    await sharp(data, { raw: { width: 60, height: 45, channels: 3 } })
      .png()
      .toFile(path.join(folder, `image${i}.png`));
  }
  items = [0, 1, 2, 3, 4].map((i) => ({ path: `image${i}.png`, label: i % 2 ? 'odd' : 'even' }));
});
after(() => rmSync(folder, { recursive: true, force: true }));

const GAP = 4;
const LABEL = 18;
const config = (augment: AugmentConfig | null = DEFAULT_AUGMENT) => ({ imageSize: 24, augment, mode: 'train' as const });

async function cellPixels(png: Buffer, cell: number, cols: number, labelHeight: number): Promise<Uint8Array> {
  const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
  const left = GAP + (cell % cols) * (24 + GAP);
  const top = GAP + Math.floor(cell / cols) * (24 + labelHeight + GAP);
  const out = new Uint8Array(24 * 24 * 3);
  for (let y = 0; y < 24; y++) {
    for (let x = 0; x < 24; x++) {
      for (let c = 0; c < 3; c++) out[(y * 24 + x) * 3 + c] = data[((top + y) * info.width + left + x) * info.channels + c]!;
    }
  }
  return out;
}

test('the grid has rows × cols cells, each exactly the sample training would get', async () => {
  const { png, cells } = await renderPreviewGrid(items, config(), { rows: 2, cols: 4, seed: 9, root: folder });
  const meta = await sharp(png).metadata();
  assert.equal(meta.format, 'png');
  assert.equal(meta.width, 4 * 24 + 5 * GAP);
  assert.equal(meta.height, 2 * (24 + LABEL) + 3 * GAP);
  assert.equal(cells.length, 8);
  // 5 images for 8 cells: every image once, then three again in a second round with new draws.
  assert.equal(new Set(cells.slice(0, 5).map((c) => c.path)).size, 5);
  assert.deepEqual(
    cells.map((c) => c.round),
    [0, 0, 0, 0, 0, 1, 1, 1],
  );
  const processor = new SampleProcessor({ ...config(), seed: 9 }, 1e7);
  for (const cell of [0, 3, 6]) {
    const { path: file, round } = cells[cell]!;
    const index = items.findIndex((item) => item.path === file);
    const outcome = await processor.process({ id: 0, path: path.join(folder, file), index, epoch: round });
    assert.equal(outcome.kind, 'sample');
    const expected = Uint8Array.from((outcome as { image: Float32Array }).image, (v) => Math.round(v));
    assert.deepEqual(await cellPixels(png, cell, 4, LABEL), expected, `cell ${cell}`);
  }
  const repeated = cells.findIndex((c, i) => i >= 5 && c.path === cells[0]!.path);
  if (repeated > 0) assert.notDeepEqual(await cellPixels(png, repeated, 4, LABEL), await cellPixels(png, 0, 4, LABEL));
  assert.equal(cells.find((c) => c.path === 'image1.png')!.label, 'odd');
});

test('the same seed draws the same grid; another seed another', async () => {
  const a = await renderPreviewGrid(items, config(), { rows: 1, cols: 3, seed: 1, root: folder, labels: false });
  const b = await renderPreviewGrid(items, config(), { rows: 1, cols: 3, seed: 1, root: folder, labels: false });
  const c = await renderPreviewGrid(items, config(), { rows: 1, cols: 3, seed: 2, root: folder, labels: false });
  assert.deepEqual(a.png, b.png);
  assert.notDeepEqual(a.png, c.png);
  assert.equal((await sharp(a.png).metadata()).height, 24 + 2 * GAP, 'no label strip');
});

test('unreadable images are skipped with a warning; none readable is an error', async () => {
  writeFileSync(path.join(folder, 'broken.png'), 'nope');
  const warnings: string[] = [];
  const { cells } = await renderPreviewGrid([{ path: 'broken.png' }, ...items.slice(0, 2)], config(), {
    rows: 1,
    cols: 4,
    seed: 3,
    root: folder,
    onWarning: (file) => warnings.push(file),
  });
  assert.deepEqual(warnings, ['broken.png']);
  assert.equal(cells.length, 4);
  assert.ok(cells.every((c) => c.path !== 'broken.png'));
  await assert.rejects(
    renderPreviewGrid([{ path: 'broken.png' }], config(), { rows: 1, cols: 1, seed: 1, root: folder }),
    /None of the images/,
  );
  await assert.rejects(renderPreviewGrid([], config(), { rows: 1, cols: 1, seed: 1 }), /no images/);
  await assert.rejects(renderPreviewGrid(items, config(), { rows: 0, cols: 1, seed: 1 }), /rows and cols/);
});
