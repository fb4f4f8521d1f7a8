/**
 * Crash-safe writes of things users keep (models, checkpoints, exports): files are fsynced before
 * they are published, and a finished folder replaces the old one by rename, so a crash or kill at
 * any moment leaves either the old folder or the new one, never a half-written mix.
 */
import fs from 'node:fs/promises';
import path from 'node:path';

/** Writes a file and fsyncs it, so a later rename of its folder publishes complete files only. */
export async function writeDurably(file: string, content: string | Uint8Array): Promise<void> {
  const handle = await fs.open(file, 'w');
  try {
    await handle.writeFile(content);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** fsyncs a folder so the names in it survive a power cut; Windows cannot open folders for this. */
export async function syncFolder(dir: string): Promise<void> {
  if (process.platform === 'win32') return;
  const handle = await fs.open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Where the previous folder waits while the new one is swapped in (a hidden sibling). */
export function replacedFolderName(target: string): string {
  return `${path.dirname(target)}${path.sep}.${path.basename(target)}.replaced-${process.pid}-${Date.now()}`;
}

/**
 * Publishes the finished folder `temp` (a sibling of `target`) as `target`. rename(2) cannot
 * replace a non-empty folder, so an existing one is moved aside first and deleted once the new
 * one is in place; if the swap fails, the old folder is put back. A crash between the two renames
 * leaves both complete folders on disk, never a half-written one.
 */
export async function swapInFolder(temp: string, target: string): Promise<void> {
  await syncFolder(temp);
  let backup: string | undefined;
  try {
    await fs.stat(target);
    backup = replacedFolderName(target);
    await fs.rename(target, backup);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  try {
    await fs.rename(temp, target);
  } catch (error) {
    if (backup) await fs.rename(backup, target);
    throw error;
  }
  await syncFolder(path.dirname(target));
  if (backup) await fs.rm(backup, { recursive: true, force: true });
}
