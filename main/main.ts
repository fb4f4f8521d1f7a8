import { app, BrowserWindow, ipcMain, Menu, session, shell } from 'electron';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createApiHandlers, dispatch } from '../app/api/handlers.ts';
import { CHANNELS } from '../app/common/ipc/contract.ts';
import { dataPaths, effnetHome } from '../app/node/paths.ts';
import { applySessionPolicy, isTrustedSender, lockDownContents } from './security.ts';
import { loadWindowState, saveWindowState } from './window-state.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const rendererIndex = path.join(here, '..', 'renderer', 'index.html');
const rendererUrl = pathToFileURL(rendererIndex).href;
const isAppUrl = (url: string) => url.split('#')[0] === rendererUrl;

// One data folder for the CLI, the server and the desktop app.
app.setPath('userData', effnetHome());

if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  let window: BrowserWindow | null = null;

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
    const handlers = createApiHandlers({ env: process.env });
    for (const channel of CHANNELS) {
      ipcMain.handle(channel, async (event, ...args: unknown[]) => {
        if (!isTrustedSender(event, isAppUrl)) {
          console.warn(`Rejected ${channel}: the sender is not the app's own page`);
          return { ok: false, error: { code: 'forbidden', message: 'Request rejected: not from the app window.' } };
        }
        return dispatch(handlers, channel, args);
      });
    }
    Menu.setApplicationMenu(buildMenu(folders.root, folders.logs));
    window = createWindow(folders.root);
  });

  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit();
  });
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

function buildMenu(dataFolder: string, logsFolder: string): Menu {
  return Menu.buildFromTemplate([
    ...(process.platform === 'darwin' ? [{ role: 'appMenu' as const }] : []),
    { role: 'fileMenu' },
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
