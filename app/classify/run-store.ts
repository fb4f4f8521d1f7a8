import fs from 'node:fs';
import { dataPaths } from '../node/paths.ts';
import { openStore, type Store } from '../store/index.ts';

/**
 * Opens the app's experiment store for looking up a run by id, or returns undefined when there is
 * none yet (a lookup must not create an empty database). The caller closes it.
 */
export function openExistingStore(env: NodeJS.ProcessEnv): Store | undefined {
  const file = dataPaths(env).database;
  return fs.existsSync(file) ? openStore(file) : undefined;
}
