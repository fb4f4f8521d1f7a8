// The preload: the only bridge between the sandboxed renderer and the main process. It exposes
// the DesktopBridge (app/common/ipc/desktop.ts), built from the contract, never ipcRenderer itself
// (STYLE.md §7). It only forwards: main checks the sender and validates every argument
// (main/main.ts, app/api/handlers.ts dispatch), so the preload carries no schemas.
import { contextBridge, ipcRenderer, webUtils, type IpcRendererEvent } from 'electron';
import type { ApiTransport, Channel } from '../app/common/ipc/contract.ts';
import { PICK_PATH_CHANNEL, type DesktopBridge } from '../app/common/ipc/desktop.ts';
import { EVENTS_CHANNEL, type AppEvent } from '../app/common/ipc/events.ts';

// The contract's channel names, written in by main/build.ts (CHANNELS_DEFINE): importing CHANNELS
// from contract.ts would bundle its zod schemas (~770 KB) into the preload of every window.
declare const __EFFNET_CHANNELS__: readonly Channel[];
const channels: ReadonlySet<string> = new Set(__EFFNET_CHANNELS__);

const invoke: ApiTransport = (channel, ...args) => {
  if (!channels.has(channel))
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
