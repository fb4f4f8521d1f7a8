/** What importing a dataset produces: a description of its files and labels, before any decoding. */

export type DatasetFormat = 'class-folders' | 'split-folders' | 'manifest';

export const SPLIT_NAMES = ['train', 'val', 'test'] as const;
export type SplitName = (typeof SPLIT_NAMES)[number];

export interface DatasetItem {
  /** Relative to the dataset root, with POSIX separators, names exactly as on disk. */
  readonly path: string;
  readonly label: string;
  /** Only for pre-split layouts (and manifests with a split column). */
  readonly split?: SplitName;
}

export type IgnoreReason =
  | 'hidden' // dotfiles, macOS ._ resource forks, .DS_Store, __MACOSX
  | 'system' // Thumbs.db, desktop.ini
  | 'not-an-image' // extension is not an image extension
  | 'outside-class' // a file directly in the root (or in a split folder), not in any class folder
  | 'not-a-split' // a top-level folder of a pre-split layout that is not train/val/test
  | 'symlink'; // a symbolic link to a folder (not followed: it could loop)

export interface IgnoredFile {
  /** Relative to the dataset root, POSIX separators. A hidden folder is one entry, not one per file inside. */
  readonly path: string;
  readonly reason: IgnoreReason;
}

export interface Dataset {
  /** Absolute folder the item paths are relative to (the manifest's folder for a manifest). */
  readonly root: string;
  /** What the user pointed at: the root folder or the manifest file (absolute). */
  readonly source: string;
  readonly format: DatasetFormat;
  /** Sorted by UTF-16 code units (not locale), so the order, and class indices, are the same on every machine. */
  readonly classes: readonly string[];
  /** Sorted by path. */
  readonly items: readonly DatasetItem[];
  readonly ignored: readonly IgnoredFile[];
  /** Where each class lives, relative to the root (class folders; for a pre-split layout the train folder). */
  readonly classPaths: Readonly<Record<string, string>>;
  /** The splits a pre-split layout has (for example train and val); empty otherwise. */
  readonly splits: readonly SplitName[];
  /** Each split's folder relative to the root, as on disk (`valid` for val in a Roboflow export). */
  readonly splitPaths?: Readonly<Partial<Record<SplitName, string>>>;
}

/** Code-unit order: locale-independent, so sorting is identical on every machine. */
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
