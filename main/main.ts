import { app, BrowserWindow, dialog, ipcMain, Menu, Notification, session, shell, type MenuItemConstructorOptions } from 'electron';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createApiContext, createApiHandlers, dispatch, type ApiContext } from '../app/api/handlers.ts';
import { CHANNELS } from '../app/common/ipc/contract.ts';
import { PICK_PATH_CHANNEL, type PickKind } from '../app/common/ipc/desktop.ts';
import { EVENTS_CHANNEL, type AppEvent } from '../app/common/ipc/events.ts';
import { dataPaths, effnetHome } from '../app/node/paths.ts';
import { RESOURCES_ENV } from '../app/node/resources.ts';
import { applySessionPolicy, isTrustedSender, lockDownContents } from './security.ts';
import { UtilityProcessSpawner } from './utility-spawner.ts';
import { loadWindowState, saveWindowState } from './window-state.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const rendererIndex = path.join(here, '..', 'renderer', 'index.html');
const rendererUrl = pathToFileURL(rendererIndex).href;
const isAppUrl = (url: string) => url.split('#')[0] === rendererUrl;

// One data folder for the CLI, the server and the desktop app.
app.setPath('userData', effnetHome());
// Packaged, electron-builder copies resources/ beside app.asar (extraResources in
// electron-builder.yml); `electron .` runs from the project folder. Worker processes and their
// threads inherit the variable (app/node/resources.ts).
process.env[RESOURCES_ENV] = app.isPackaged ? path.join(process.resourcesPath, 'resources') : path.join(app.getAppPath(), 'resources');

if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  let window: BrowserWindow | null = null;
  let context: ApiContext | null = null;

  app.on('second-instance', () => {
    if (window) {
      if (window.isMinimized()) window.restore();
      window.focus();
    }
  });

  app.whenReady().then(() => {
    const folders = dataPaths();
    mkdirSync(folders.root, { recursive: true });
    applySessionPolicy(session.defaultSession);
    // Workers start from dist/workers/launch.mjs, compiled by main/build.ts (app/jobs/entries.ts picks
    // it because this code runs from a bundle): the packaged app has no TypeScript loader.
    context = createApiContext({ env: process.env, shell: 'desktop', spawner: new UtilityProcessSpawner() });
    const handlers = createApiHandlers(context);
    const send = (event: AppEvent) => window?.webContents.send(EVENTS_CHANNEL, event);
    context.events.subscribe(send);
    context.events.subscribe((event) => notifyRunEnd(event, context!));

    for (const channel of CHANNELS) {
      ipcMain.handle(channel, async (event, ...args: unknown[]) => {
        if (!isTrustedSender(event, isAppUrl)) {
          console.warn(`Rejected ${channel}: the sender is not the app's own page`);
          return { ok: false, error: { code: 'forbidden', message: 'Request rejected: not from the app window.' } };
        }
        return dispatch(handlers, channel, args);
      });
    }
    ipcMain.handle(PICK_PATH_CHANNEL, async (event, kind: unknown, title: unknown) => {
      if (!isTrustedSender(event, isAppUrl) || (kind !== 'folder' && kind !== 'file')) return null;
      return pickPath(kind, typeof title === 'string' ? title.slice(0, 200) : 'Open');
    });

    Menu.setApplicationMenu(buildMenu(folders.root, folders.logs, send));
    window = createWindow(folders.root);
    window.on('closed', () => (window = null));
  });

  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit();
  });
  // Running training saves a checkpoint before the app goes: hold the quit until the jobs stop.
  app.on('will-quit', (event) => {
    if (!context) return;
    event.preventDefault();
    const closing = context;
    context = null;
    void closing.close().finally(() => app.quit());
  });

  /** An OS notification when a training run ends, unless the window is in front (the user sees it). */
  function notifyRunEnd(event: AppEvent, api: ApiContext): void {
    if (event.type !== 'job:event' || event.job.event.type !== 'status' || event.job.runId === null) return;
    const { status, message } = event.job.event;
    if (status !== 'completed' && status !== 'failed' && status !== 'interrupted') return;
    if (!Notification.isSupported() || window?.isFocused()) return;
    const name = api.store().runs.get(event.job.runId)?.name ?? `Run ${event.job.runId}`;
    const body = status === 'completed' ? 'Training finished.' : `Training ${status}${message ? `: ${message}` : '.'}`;
    new Notification({ title: name, body }).show();
  }

  async function pickPath(kind: PickKind, title: string): Promise<string | null> {
    const options = { title, properties: [kind === 'folder' ? ('openDirectory' as const) : ('openFile' as const)] };
    const result = window ? await dialog.showOpenDialog(window, options) : await dialog.showOpenDialog(options);
    return result.canceled ? null : (result.filePaths[0] ?? null);
  }

  function buildMenu(dataFolder: string, logsFolder: string, send: (event: AppEvent) => void): Menu {
    const openDataset = async () => {
      const source = await pickPath('folder', 'Open a dataset folder');
      if (source) send({ type: 'shell:open-dataset', source });
    };
    const file: MenuItemConstructorOptions = {
      label: 'File',
      submenu: [
        { label: 'Open dataset…', accelerator: 'CmdOrCtrl+O', click: () => void openDataset() },
        { type: 'separator' },
        process.platform === 'darwin' ? { role: 'close' } : { role: 'quit' },
      ],
    };
    return Menu.buildFromTemplate([
      ...(process.platform === 'darwin' ? [{ role: 'appMenu' as const }] : []),
      file,
      { role: 'editMenu' },
      { role: 'viewMenu' },
      {
        role: 'help',
        submenu: [
          { label: 'Open the data folder', click: () => void shell.openPath(dataFolder) },
          { label: 'Open logs', click: () => void shell.openPath(logsFolder) },
          { type: 'separator' },
          { label: 'About EffNet Studio', role: 'about' },
        ],
      },
    ]);
  }
}

function createWindow(stateFolder: string): BrowserWindow {
  const state = loadWindowState(stateFolder);
  const window = new BrowserWindow({
    width: state.width,
    height: state.height,
    x: state.x,
    y: state.y,
    minWidth: 900,
    minHeight: 600,
    title: 'EffNet Studio',
    show: false,
    webPreferences: {
      preload: path.join(here, 'preload.cjs'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
      spellcheck: false,
    },
  });
  lockDownContents(window.webContents, isAppUrl);
  if (state.maximized) window.maximize();
  window.once('ready-to-show', () => window.show());
  window.on('close', () => {
    const bounds = window.getNormalBounds();
    saveWindowState(stateFolder, { ...bounds, maximized: window.isMaximized() });
  });
  void window.loadFile(rendererIndex);
  return window;
}
