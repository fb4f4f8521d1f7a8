/**
 * Folder-per-class: every first-level folder is a class, named exactly as on disk (any script);
 * images in nested sub-folders belong to their first-level folder. This is the layout of Keras'
 * image_dataset_from_directory, Lobe and Create ML (product-landscape.md §1.1).
 */
import path from 'node:path';
import { AppError } from '../../common/errors.ts';
import { isImageName, listFolder, listRoot } from '../walk.ts';
import { compareText, type Dataset, type DatasetItem, type IgnoredFile, type SplitName } from '../types.ts';
import type { DatasetReader } from './registry.ts';

export interface ClassFolders {
  readonly classes: string[];
  readonly items: DatasetItem[];
  readonly ignored: IgnoredFile[];
  /** Class name → its folder relative to `base`. */
  readonly classPaths: Record<string, string>;
}

/** The classes under `folder` (a dataset root, or one split of a pre-split layout). */
export async function readClassFolders(folder: string, base: string, split?: SplitName): Promise<ClassFolders> {
  const root = await listRoot(folder, base);
  const prefix = path.relative(base, folder).split(path.sep).join('/');
  const ignored: IgnoredFile[] = [...root.ignored];
  for (const file of root.files) {
    ignored.push({ path: prefix ? `${prefix}/${file}` : file, reason: isImageName(file) ? 'outside-class' : 'not-an-image' });
  }
  const items: DatasetItem[] = [];
  const classPaths: Record<string, string> = {};
  for (const name of root.folders.sort(compareText)) {
    const listing = await listFolder(path.join(folder, name), base);
    classPaths[name] = prefix ? `${prefix}/${name}` : name;
    for (const image of listing.images) items.push(split ? { path: image, label: name, split } : { path: image, label: name });
    ignored.push(...listing.ignored);
  }
  return { classes: root.folders, items, ignored, classPaths };
}

export const classFoldersReader: DatasetReader = {
  format: 'class-folders',
  summary: 'one folder per class (nested sub-folders belong to their class)',
  matches: (target) => target.kind === 'folder',
  async read(target) {
    const found = await readClassFolders(target.path, target.path);
    if (found.classes.length === 0) {
      throw new AppError('dataset-empty', `${target.path} has no class folders`, {
        hint: 'Put the images of each class in a folder named after the class: DATASET/cat/1.jpg, DATASET/dog/2.jpg.',
      });
    }
    return finishDataset({ root: target.path, source: target.path, format: 'class-folders', splits: [], ...found });
  },
};

/** Sorts classes, items and ignored files the same way for every reader. */
export function finishDataset(dataset: Dataset): Dataset {
  return {
    ...dataset,
    classes: [...new Set(dataset.classes)].sort(compareText),
    items: [...dataset.items].sort((a, b) => compareText(a.path, b.path)),
    ignored: [...dataset.ignored].sort((a, b) => compareText(a.path, b.path)),
  };
}
