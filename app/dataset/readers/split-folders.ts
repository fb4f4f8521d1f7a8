/**
 * A pre-split layout: train/, val/ and/or test/ at the top, each folder-per-class (the TAO and
 * Ultralytics layout, product-landscape.md §1.1). The split is respected as given.
 */
import path from 'node:path';
import { AppError } from '../../common/errors.ts';
import { isImageName } from '../walk.ts';
import { type DatasetItem, type IgnoredFile, type SplitName } from '../types.ts';
import { finishDataset, readClassFolders } from './class-folders.ts';
import type { DatasetReader } from './registry.ts';

/** Folder names (lower case) accepted for each split; `valid` is Roboflow's export name. */
export const SPLIT_FOLDER_ALIASES: Record<string, SplitName> = {
  train: 'train',
  training: 'train',
  val: 'val',
  valid: 'val',
  validation: 'val',
  test: 'test',
  testing: 'test',
};

/** train plus at least one of val/test: a lone `train` folder is more likely a class called "train". */
function splitFolders(folders: readonly string[]): Map<string, SplitName> {
  const found = new Map<string, SplitName>();
  for (const folder of folders) {
    const split = SPLIT_FOLDER_ALIASES[folder.toLowerCase()];
    if (split) found.set(folder, split);
  }
  const splits = new Set(found.values());
  return splits.has('train') && splits.size >= 2 ? found : new Map();
}

export const splitFoldersReader: DatasetReader = {
  format: 'split-folders',
  summary: 'train/, val/ (or valid/, validation/) and test/ folders, each one folder per class',
  matches: (target) => target.kind === 'folder' && splitFolders(target.entries.folders).size > 0,
  async read(target) {
    if (target.kind !== 'folder') throw new Error('split-folders reads folders only');
    const found = splitFolders(target.entries.folders);
    const counts = new Map<SplitName, string>();
    for (const [folder, split] of found) {
      const other = counts.get(split);
      if (other) {
        throw new AppError('dataset-layout', `${target.path} has two folders for the ${split} split: ${other}/ and ${folder}/`, {
          hint: 'Merge them or rename one.',
        });
      }
      counts.set(split, folder);
    }
    const items: DatasetItem[] = [];
    const ignored: IgnoredFile[] = [...target.entries.ignored];
    const classes: string[] = [];
    const classPaths: Record<string, string> = {};
    for (const file of target.entries.files) ignored.push({ path: file, reason: isImageName(file) ? 'outside-class' : 'not-an-image' });
    for (const folder of target.entries.folders) if (!found.has(folder)) ignored.push({ path: folder, reason: 'not-a-split' });
    // Train first, so classPaths point at the train folder when a class is in several splits.
    for (const [folder, split] of [...found].sort((a, b) => order(a[1]) - order(b[1]))) {
      const part = await readClassFolders(path.join(target.path, folder), target.path, split);
      items.push(...part.items);
      ignored.push(...part.ignored);
      classes.push(...part.classes);
      for (const [name, where] of Object.entries(part.classPaths)) classPaths[name] ??= where;
    }
    return finishDataset({
      root: target.path,
      source: target.path,
      format: 'split-folders',
      classes,
      items,
      ignored,
      classPaths,
      splits: [...new Set(found.values())].sort((a, b) => order(a) - order(b)),
      splitPaths: Object.fromEntries([...found].map(([folder, split]) => [split, folder])),
    });
  },
};

function order(split: SplitName): number {
  return ['train', 'val', 'test'].indexOf(split);
}
