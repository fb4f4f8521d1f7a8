import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { AppError } from '../common/errors.ts';
import { swapInFolder } from '../node/durable.ts';

export { syncFolder, writeDurably } from '../node/durable.ts';

export interface ExportedFile {
  /** Relative to the export folder, POSIX separators. */
  readonly name: string;
  readonly bytes: number;
  readonly sha256: string;
}

/** Every file of a folder (recursively) with its size and SHA-256, sorted by name. */
export async function describeFiles(dir: string): Promise<ExportedFile[]> {
  const entries = await fs.readdir(dir, { recursive: true, withFileTypes: true });
  const files: ExportedFile[] = [];
  for (const entry of entries) {
    if (!entry.isFile()) continue;
    const full = path.join(entry.parentPath, entry.name);
    const data = await fs.readFile(full);
    files.push({
      name: path.relative(dir, full).split(path.sep).join('/'),
      bytes: data.byteLength,
      sha256: createHash('sha256').update(data).digest('hex'),
    });
  }
  return files.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Files an export folder always holds: a folder with it can be replaced by a new export. */
export const EXPORT_MARKER = 'verification.json';

/**
 * Moves the finished `temp` folder to `target`. An existing target is replaced only when it is
 * empty or a previous export (it has verification.json), so a mistyped --out never deletes a
 * user's files.
 */
export async function publishFolder(temp: string, target: string): Promise<void> {
  await checkReplaceable(target);
  await swapInFolder(temp, target);
}

export async function checkReplaceable(target: string): Promise<void> {
  let entries: string[];
  try {
    const stat = await fs.stat(target);
    if (!stat.isDirectory()) {
      throw new AppError('export-out-invalid', `Cannot export to ${target}: a file with that name exists.`, {
        hint: 'Choose a folder path for --out.',
      });
    }
    entries = await fs.readdir(target);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  if (entries.length > 0 && !entries.includes(EXPORT_MARKER)) {
    throw new AppError('export-out-invalid', `Cannot export to ${target}: the folder holds other files and is not an earlier export.`, {
      hint: 'An export replaces the whole folder; choose an empty or new folder.',
    });
  }
}
