import { fileURLToPath } from 'node:url';
import path from 'node:path';

/** The project root (this file lives in app/node/). */
export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** A path inside `../shared` (reference fixtures and docs), which CI lays beside the clone. */
export function sharedPath(relative: string): string {
  return path.resolve(PROJECT_ROOT, '..', 'shared', relative);
}
