// The preload: the only bridge between the sandboxed renderer and the main process. It exposes
// one typed function per contract channel, never ipcRenderer itself (STYLE.md §7).
import { contextBridge, ipcRenderer } from 'electron';
import { CHANNELS, type ApiTransport } from '../app/common/ipc/contract.ts';

const invoke: ApiTransport = (channel, ...args) => {
  if (!CHANNELS.includes(channel))
    return Promise.resolve({ ok: false, error: { code: 'invalid-request', message: `Unknown channel ${channel}` } });
  return ipcRenderer.invoke(channel, ...args);
};

contextBridge.exposeInMainWorld('desktop', { invoke, platform: process.platform });
