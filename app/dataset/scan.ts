/**
 * Reads, hashes and decodes every listed image once, a bounded number at a time, keeping only a
 * few numbers per image: a 100k-image dataset never has more than `concurrency` files in memory.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { AppError } from '../common/errors.ts';
import { decodeImage, type ImageFormat } from '../image/decode.ts';
import type { DatasetItem } from './types.ts';

export interface ScannedItem {
  readonly item: DatasetItem;
  /** sha256 of the file's bytes; undefined when the file cannot be read at all. */
  readonly hash?: string;
  readonly bytes?: number;
  readonly image?: { width: number; height: number; format: ImageFormat; grayscale: boolean; transparent: boolean };
  /** Why the image is unreadable; undefined when it decoded. */
  readonly error?: string;
}

export interface ScanProgress {
  readonly done: number;
  readonly total: number;
  readonly path: string;
}

export interface ScanOptions {
  /** Files read and decoded at once (default: CPU count, 2 to 8). */
  readonly concurrency?: number;
  /** Decode the images (default) or only hash them (fast: for fingerprints and splits). */
  readonly decode?: boolean;
  readonly maxPixels?: number;
  readonly onProgress?: (progress: ScanProgress) => void;
  readonly signal?: AbortSignal;
}

export function defaultConcurrency(): number {
  return Math.max(2, Math.min(8, os.availableParallelism()));
}

export async function scanItems(root: string, items: readonly DatasetItem[], options: ScanOptions = {}): Promise<ScannedItem[]> {
  const decode = options.decode ?? true;
  return mapLimit(items, options.concurrency ?? defaultConcurrency(), options, async (item) => {
    const file = path.join(root, ...item.path.split('/'));
    let bytes: Buffer;
    try {
      bytes = await readFile(file);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      const reason =
        code === 'ENOENT' ? 'the file does not exist' : code === 'EISDIR' ? 'it is a folder, not a file' : (error as Error).message;
      return { item, error: reason };
    }
    const hash = createHash('sha256').update(bytes).digest('hex');
    if (!decode) return { item, hash, bytes: bytes.length };
    try {
      const image = await decodeImage(bytes, { maxPixels: options.maxPixels });
      return {
        item,
        hash,
        bytes: bytes.length,
        image: {
          width: image.width,
          height: image.height,
          format: image.format,
          grayscale: image.wasGrayscale,
          transparent: image.hadAlpha,
        },
      };
    } catch (error) {
      if (!(error instanceof AppError)) throw error;
      return { item, hash, bytes: bytes.length, error: String((error.details as { reason?: string })?.reason ?? error.message) };
    }
  });
}

/** Runs `work` over `items` with at most `limit` in flight; results keep the input order. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  options: Pick<ScanOptions, 'onProgress' | 'signal'>,
  work: (item: T) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < items.length) {
      if (options.signal?.aborted) throw new AppError('cancelled', 'The dataset scan was cancelled.');
      const index = next++;
      results[index] = await work(items[index]!);
      done++;
      const item = items[index] as { path?: string };
      options.onProgress?.({ done, total: items.length, path: item.path ?? '' });
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return results;
}
