/**
 * Paths that arrive from the renderer. The server is a local tool, but a path argument must still
 * exist and be what the channel expects before any work starts, and a file named relative to a
 * dataset must stay inside that dataset (no `../` escapes).
 */
import { stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { AppError } from '../common/errors.ts';

export type PathKind = 'file' | 'folder' | 'file-or-folder';

/** `~` and `~/x` expand to the home folder, as a shell would; the result must be absolute. */
export function expandPath(value: string, field: string): string {
  const trimmed = value.trim();
  const expanded = trimmed === '~' ? os.homedir() : trimmed.startsWith('~/') ? path.join(os.homedir(), trimmed.slice(2)) : trimmed;
  if (!path.isAbsolute(expanded)) {
    throw new AppError('invalid-path', `${field}: '${value}' is not an absolute path`, {
      hint: `Give the full path, for example ${process.platform === 'win32' ? 'C:\\data\\flowers' : '/home/me/data/flowers'}.`,
    });
  }
  return path.normalize(expanded);
}

/** The absolute, normalised path after checking that it exists and is a `kind`. */
export async function requirePath(value: string, kind: PathKind, field: string): Promise<string> {
  const absolute = expandPath(value, field);
  const info = await stat(absolute).catch((error: NodeJS.ErrnoException) => {
    const why = error.code === 'ENOENT' ? 'does not exist' : error.code === 'EACCES' ? 'cannot be read (permission denied)' : error.message;
    throw new AppError('invalid-path', `${field}: ${absolute} ${why}`, { hint: 'Check the path and try again.' });
  });
  if (kind === 'folder' && !info.isDirectory()) {
    throw new AppError('invalid-path', `${field}: ${absolute} is a file, not a folder`, { hint: 'Give the folder that holds the images.' });
  }
  if (kind === 'file' && !info.isFile()) {
    throw new AppError('invalid-path', `${field}: ${absolute} is a folder, not a file`, { hint: 'Give a file.' });
  }
  if (kind === 'file-or-folder' && !info.isFile() && !info.isDirectory()) {
    throw new AppError('invalid-path', `${field}: ${absolute} is neither a file nor a folder`);
  }
  return absolute;
}

/** A path relative to `root` (POSIX separators), resolved; throws when it leaves `root`. */
export function insideRoot(root: string, relative: string, field: string): string {
  const resolved = path.resolve(root, ...relative.split('/'));
  const back = path.relative(root, resolved);
  if (back === '' || back.startsWith('..') || path.isAbsolute(back)) {
    throw new AppError('invalid-path', `${field}: '${relative}' is not a file inside the dataset ${root}`);
  }
  return resolved;
}
