/**
 * The augmentation preview: a grid of samples exactly as training would see them (same code path
 * as the pipeline), so a user can check that the augmentations are sensible before a long run.
 */
import path from 'node:path';
import sharp from 'sharp';
import { AppError } from '../../common/errors.ts';
import { validateAugment, type AugmentConfig, type PipelineMode } from './config.ts';
import { resolveItemPath } from './pipeline.ts';
import { SampleProcessor, type Decoder } from './sample.ts';
import { deriveSeed, epochOrder, STREAM } from './seeds.ts';

export interface PreviewItem {
  /** Absolute, or relative (POSIX separators) to `options.root`. */
  readonly path: string;
  /** Shown under the sample; the file name when absent. */
  readonly label?: string;
}

export interface PreviewConfig {
  readonly imageSize: number;
  readonly augment: AugmentConfig | null;
  readonly mode: PipelineMode;
}

export interface PreviewOptions {
  readonly rows: number;
  readonly cols: number;
  readonly seed: number;
  readonly root?: string;
  /** Draw each cell's label under it (default true). */
  readonly labels?: boolean;
  /** Tests only: read pixels some other way than app/image/decode.ts. */
  readonly decode?: Decoder;
  readonly onWarning?: (path: string, message: string) => void;
}

export interface PreviewCell {
  readonly path: string;
  readonly label: string;
  /** Used as the epoch of the augmentation draw: an item shown twice is shown in two rounds, two draws. */
  readonly round: number;
}

const GAP = 4;
const LABEL_HEIGHT = 18;
const BACKGROUND = 24;
/** 64 MiB is far more than a preview's few dozen images need; it only avoids decoding an image twice. */
const PREVIEW_CACHE_BYTES = 64 * 1024 * 1024;

/** A PNG of rows × cols augmented samples, and which item each cell shows. */
export async function renderPreviewGrid(
  items: readonly PreviewItem[],
  config: PreviewConfig,
  options: PreviewOptions,
): Promise<{ png: Buffer; cells: PreviewCell[] }> {
  const { rows, cols, seed } = options;
  if (!Number.isInteger(rows) || !Number.isInteger(cols) || rows < 1 || cols < 1 || rows * cols > 400) {
    throw new AppError('preview-config', `rows and cols must be whole numbers from 1 with rows × cols ≤ 400, got ${rows} × ${cols}`);
  }
  if (!Number.isInteger(config.imageSize) || config.imageSize < 8 || config.imageSize > 1024) {
    throw new AppError('preview-config', `imageSize must be a whole number from 8 to 1024, got ${config.imageSize}`);
  }
  if (config.augment) validateAugment(config.augment);
  if (items.length === 0) throw new AppError('preview-empty', 'The dataset has no images to preview.', { hint: 'Check the folder path.' });

  const size = config.imageSize;
  const processor = new SampleProcessor({ ...config, seed }, PREVIEW_CACHE_BYTES, options.decode);
  const order = epochOrder(items.length, deriveSeed(seed, STREAM.preview), 0, true);
  const root = options.root ?? process.cwd();
  const labelHeight = options.labels === false ? 0 : LABEL_HEIGHT;
  const cellHeight = size + labelHeight;
  const width = cols * size + (cols + 1) * GAP;
  const height = rows * cellHeight + (rows + 1) * GAP;
  const canvas = Buffer.alloc(width * height * 3, BACKGROUND);
  const cells: PreviewCell[] = [];
  const unreadable = new Set<number>();

  // Walk the shuffled items, round after round, until the grid is full; each round is a fresh
  // "epoch" so a small dataset shows each image under different augmentations.
  for (let attempt = 0; cells.length < rows * cols && unreadable.size < items.length; attempt++) {
    const index = order[attempt % items.length]!;
    if (unreadable.has(index)) continue;
    const item = items[index]!;
    const round = Math.floor(attempt / items.length);
    const outcome = await processor.process({ id: attempt, path: resolveItemPath(item.path, root), index, epoch: round });
    if (outcome.kind === 'skipped') {
      unreadable.add(index);
      options.onWarning?.(item.path, outcome.error.message);
      continue;
    }
    const cell = cells.length;
    const left = GAP + (cell % cols) * (size + GAP);
    const top = GAP + Math.floor(cell / cols) * (cellHeight + GAP);
    for (let y = 0; y < size; y++) {
      const row = ((top + y) * width + left) * 3;
      for (let k = 0; k < size * 3; k++) canvas[row + k] = Math.round(outcome.image[y * size * 3 + k]!);
    }
    cells.push({ path: item.path, label: item.label ?? path.posix.basename(item.path), round });
  }
  if (cells.length === 0) {
    throw new AppError('preview-empty', 'None of the images could be read.', {
      hint: 'Run `effnet dataset inspect` to find the broken files.',
    });
  }

  let image = sharp(canvas, { raw: { width, height, channels: 3 } });
  if (labelHeight > 0)
    image = image.composite([{ input: Buffer.from(labelSvg(cells, width, height, cols, size, cellHeight)), top: 0, left: 0 }]);
  return { png: await image.png().toBuffer(), cells };
}

function labelSvg(cells: readonly PreviewCell[], width: number, height: number, cols: number, size: number, cellHeight: number): string {
  const maxChars = Math.max(4, Math.floor(size / 7));
  const texts = cells.map((cell, i) => {
    const x = GAP + (i % cols) * (size + GAP) + size / 2;
    const y = GAP + Math.floor(i / cols) * (cellHeight + GAP) + size + 13;
    const text = cell.label.length > maxChars ? `${cell.label.slice(0, maxChars - 1)}…` : cell.label;
    return `<text x="${x}" y="${y}">${escapeXml(text)}</text>`;
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}"><g font-family="sans-serif" font-size="12" fill="#e8e8e8" text-anchor="middle">${texts.join('')}</g></svg>`;
}

function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!);
}
