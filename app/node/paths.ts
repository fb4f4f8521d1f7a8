import os from 'node:os';
import path from 'node:path';

export const APP_FOLDER_NAME = 'EffNet Studio';

/**
 * The app's data folder, shared by the CLI, the headless server and the desktop app: EFFNET_HOME
 * when set, else the per-OS application data folder (the one Electron's `userData` points at).
 */
export function effnetHome(env: NodeJS.ProcessEnv = process.env): string {
  if (env.EFFNET_HOME && env.EFFNET_HOME.trim() !== '') return path.resolve(env.EFFNET_HOME);
  const home = os.homedir();
  switch (process.platform) {
    case 'win32':
      return path.join(env.APPDATA ?? path.join(home, 'AppData', 'Roaming'), APP_FOLDER_NAME);
    case 'darwin':
      return path.join(home, 'Library', 'Application Support', APP_FOLDER_NAME);
    default:
      return path.join(env.XDG_DATA_HOME ?? path.join(home, '.local', 'share'), 'effnet-studio');
  }
}

/** Named places inside the data folder; everything the app writes lives under one of these. */
export function dataPaths(env: NodeJS.ProcessEnv = process.env) {
  const root = effnetHome(env);
  return {
    root,
    database: path.join(root, 'effnet.sqlite'),
    weights: path.join(root, 'weights'),
    runs: path.join(root, 'runs'),
    cache: path.join(root, 'cache'),
    logs: path.join(root, 'logs'),
    exports: path.join(root, 'exports'),
  } as const;
}
