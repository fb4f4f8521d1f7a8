// The preload: the only bridge between the sandboxed renderer and the main process. It exposes
// the DesktopBridge (app/common/ipc/desktop.ts), built from the contract, never ipcRenderer itself
// (STYLE.md §7).
import { contextBridge, ipcRenderer, webUtils, type IpcRendererEvent } from 'electron';
import { CHANNELS, type ApiTransport } from '../app/common/ipc/contract.ts';
import { PICK_PATH_CHANNEL, type DesktopBridge } from '../app/common/ipc/desktop.ts';
import { EVENTS_CHANNEL, type AppEvent } from '../app/common/ipc/events.ts';

const invoke: ApiTransport = (channel, ...args) => {
  if (!CHANNELS.includes(channel))
    return Promise.resolve({ ok: false, error: { code: 'invalid-request', message: `Unknown channel ${channel}` } });
  return ipcRenderer.invoke(channel, ...args);
};

const bridge: DesktopBridge = {
  invoke,
  onEvent: (listener) => {
    // The renderer sees the event only, never the IpcRendererEvent (which exposes `sender`).
    const forward = (_event: IpcRendererEvent, appEvent: AppEvent) => listener(appEvent);
    ipcRenderer.on(EVENTS_CHANNEL, forward);
    return () => void ipcRenderer.removeListener(EVENTS_CHANNEL, forward);
  },
  pickPath: (kind, title) => ipcRenderer.invoke(PICK_PATH_CHANNEL, kind, title),
  // File.path was removed in Electron 32; webUtils is the replacement (electron/electron#42083).
  pathForFile: (file) => webUtils.getPathForFile(file),
  platform: process.platform,
};

contextBridge.exposeInMainWorld('desktop', bridge);
