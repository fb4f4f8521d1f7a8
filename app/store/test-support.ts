/** Temporary folders for store tests and benchmarks (removed when the test ends). */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export function temporaryFolder(prefix = 'effnet-store-'): { folder: string; file: (name: string) => string; remove: () => void } {
  const folder = mkdtempSync(path.join(os.tmpdir(), prefix));
  return {
    folder,
    file: (name: string) => path.join(folder, name),
    remove: () => rmSync(folder, { recursive: true, force: true }),
  };
}
