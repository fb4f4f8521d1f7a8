// The renderer's one door to the backend (STYLE.md §9): components call these functions and never
// touch window.desktop or fetch directly. Failures arrive as data and are rethrown as AppError.
import { AppError } from '../../../app/common/errors.ts';
import type { ApiTransport, ChannelArgs, ChannelResults, Channel } from '../../../app/common/ipc/contract.ts';

declare global {
  interface Window {
    desktop?: { invoke: ApiTransport; platform: string };
  }
}

/** Inside Electron the preload provides the transport; in a browser (`effnet serve`) it is HTTP. */
function transport(): ApiTransport {
  if (window.desktop) return window.desktop.invoke;
  return async (channel, ...args) => {
    const token = new URLSearchParams(window.location.search).get('token') ?? '';
    const response = await fetch(`api/${channel}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
      body: JSON.stringify(args),
    });
    return response.json();
  };
}

export async function call<K extends Channel>(channel: K, ...args: ChannelArgs<K>): Promise<ChannelResults[K]> {
  const result = await transport()(channel, ...args);
  if (!result.ok) throw AppError.fromData(result.error);
  return result.value;
}
