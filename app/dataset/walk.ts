/**
 * Lists a folder tree and sorts each file into "candidate image" or "ignored, and why". Whether a
 * candidate really is an image is decided later by its content (decode.ts); here only the extension
 * is looked at, so listing 100k files does not read them.
 */
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { IMAGE_EXTENSIONS } from '../image/formats.ts';
import type { IgnoredFile, IgnoreReason } from './types.ts';

/** The file `effnet dataset split` writes by default; it belongs to the app, so listing skips it silently. */
export const SPLIT_FILE_NAME = 'effnet-split.json';

const SYSTEM_FILES = new Set(['thumbs.db', 'ehthumbs.db', 'desktop.ini', 'icon\r']);

/** Why a name is skipped outright, or undefined if it is a normal file or folder. */
export function skipReason(name: string): IgnoreReason | undefined {
  // Dotfiles cover .DS_Store, .git and macOS "._name" AppleDouble files; __MACOSX is what zip adds.
  if (name.startsWith('.') || name === '__MACOSX') return 'hidden';
  if (SYSTEM_FILES.has(name.toLowerCase())) return 'system';
  return undefined;
}

export function isImageName(name: string): boolean {
  const dot = name.lastIndexOf('.');
  return dot > 0 && IMAGE_EXTENSIONS.has(name.slice(dot + 1).toLowerCase());
}

export function toPosix(relative: string): string {
  return relative.split(path.sep).join('/');
}

export interface FolderListing {
  /** Candidate image files, relative to `base`, POSIX separators. */
  readonly images: string[];
  readonly ignored: IgnoredFile[];
}

/**
 * Every file under `folder` (recursively). Paths are relative to `base`. Symbolic links to files are
 * followed; links to folders are not (they can form loops) and are reported.
 */
export async function listFolder(folder: string, base: string): Promise<FolderListing> {
  const listing: FolderListing = { images: [], ignored: [] };
  await walk(folder, base, listing);
  return listing;
}

async function walk(folder: string, base: string, listing: FolderListing): Promise<void> {
  const entries = await readdir(folder, { withFileTypes: true });
  for (const entry of entries) {
    const full = path.join(folder, entry.name);
    const relative = toPosix(path.relative(base, full));
    const skip = skipReason(entry.name);
    if (skip) {
      listing.ignored.push({ path: relative, reason: skip });
      continue;
    }
    let isDirectory = entry.isDirectory();
    let isFile = entry.isFile();
    if (entry.isSymbolicLink()) {
      const target = await stat(full).catch(() => undefined);
      if (target?.isDirectory()) {
        listing.ignored.push({ path: relative, reason: 'symlink' });
        continue;
      }
      isFile = target?.isFile() ?? true; // a dangling link is listed and reported unreadable later
      isDirectory = false;
    }
    if (isDirectory) await walk(full, base, listing);
    else if (isFile && isImageName(entry.name)) listing.images.push(relative);
    else if (isFile) listing.ignored.push({ path: relative, reason: 'not-an-image' });
  }
}

export interface RootEntries {
  readonly folders: string[];
  readonly files: string[];
  readonly ignored: IgnoredFile[];
}

/** The first level of a folder: sub-folders (class or split candidates), plain files, skipped entries. */
export async function listRoot(folder: string, base: string): Promise<RootEntries> {
  const result: RootEntries = { folders: [], files: [], ignored: [] };
  for (const entry of await readdir(folder, { withFileTypes: true })) {
    const relative = toPosix(path.relative(base, path.join(folder, entry.name)));
    const skip = skipReason(entry.name);
    if (skip) result.ignored.push({ path: relative, reason: skip });
    else if (entry.isDirectory()) result.folders.push(entry.name);
    else if (entry.isSymbolicLink() && (await stat(path.join(folder, entry.name)).catch(() => undefined))?.isDirectory()) {
      result.ignored.push({ path: relative, reason: 'symlink' });
    } else if (entry.name !== SPLIT_FILE_NAME || folder !== base) result.files.push(entry.name);
  }
  return result;
}
