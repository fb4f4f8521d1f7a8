/**
 * Dataset readers register in one table (STYLE.md §3); `openDataset` tries them in order and one
 * test walks the table. A new layout is a new entry, not a new code path.
 */
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { AppError } from '../../common/errors.ts';
import type { Dataset, DatasetFormat } from '../types.ts';
import { listRoot, type RootEntries } from '../walk.ts';
import { classFoldersReader } from './class-folders.ts';
import { manifestReader } from './manifest.ts';
import { splitFoldersReader } from './split-folders.ts';

export type ReaderTarget = { kind: 'file'; path: string } | { kind: 'folder'; path: string; entries: RootEntries };

export interface DatasetReader {
  readonly format: DatasetFormat;
  readonly summary: string;
  /** Cheap: from the path and the top-level listing only. */
  matches(target: ReaderTarget): boolean;
  read(target: ReaderTarget): Promise<Dataset>;
}

/** Most specific first: a pre-split layout is also a set of folders, so it must be tried before class folders. */
export const DATASET_READERS: readonly DatasetReader[] = [manifestReader, splitFoldersReader, classFoldersReader];

/** Reads a dataset from a folder or a manifest file; `format` forces a reader instead of detecting one. */
export async function openDataset(location: string, options: { format?: DatasetFormat } = {}): Promise<Dataset> {
  const absolute = path.resolve(location);
  const info = await stat(absolute).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') {
      throw new AppError('not-found', `Dataset ${absolute} does not exist`, {
        hint: 'Check the path: give a dataset folder or a CSV/TSV manifest file.',
      });
    }
    throw new AppError('unreadable', `Cannot open dataset ${absolute}: ${error.message}`);
  });
  const target: ReaderTarget = info.isDirectory()
    ? { kind: 'folder', path: absolute, entries: await listRoot(absolute, absolute) }
    : { kind: 'file', path: absolute };
  const reader = options.format ? DATASET_READERS.find((r) => r.format === options.format) : DATASET_READERS.find((r) => r.matches(target));
  if (!reader || !reader.matches(target)) {
    const expected = options.format ? `a ${options.format} dataset` : 'a dataset folder or a .csv/.tsv manifest';
    throw new AppError('dataset-format', `${absolute} is not ${expected}`, {
      hint: `Supported layouts: ${DATASET_READERS.map((r) => `${r.format} (${r.summary})`).join('; ')}.`,
    });
  }
  return reader.read(target);
}
