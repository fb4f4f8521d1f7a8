// The renderer's one door to the backend (STYLE.md §9): components call these functions and never
// touch window.desktop, fetch or EventSource directly. Failures arrive as data and are rethrown as
// AppError, so components use ordinary try/catch.
import { AppError } from '../../../app/common/errors.ts';
import type { ApiTransport, Channel, ChannelArgs, ChannelResults } from '../../../app/common/ipc/contract.ts';
import type { DesktopBridge, PickKind } from '../../../app/common/ipc/desktop.ts';
import type { AppEvent } from '../../../app/common/ipc/events.ts';

declare global {
  interface Window {
    desktop?: DesktopBridge;
  }
}

/** The access token `effnet serve` printed in the URL (browser mode only). */
function token(): string {
  return new URLSearchParams(window.location.search).get('token') ?? '';
}

const httpTransport: ApiTransport = async (channel, ...args) => {
  let response: Response;
  try {
    response = await fetch(`api/${encodeURIComponent(channel)}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token()}` },
      body: JSON.stringify(args),
    });
  } catch {
    return {
      ok: false,
      error: {
        code: 'offline',
        message: 'Cannot reach the EffNet Studio server.',
        hint: 'Check that `effnet serve` is still running, then reload the page.',
      },
    };
  }
  const contentType = response.headers.get('Content-Type') ?? '';
  if (!contentType.startsWith('application/json')) {
    return { ok: false, error: { code: 'http', message: `The server answered ${response.status} ${response.statusText} to ${channel}.` } };
  }
  return response.json();
};

function transport(): ApiTransport {
  return window.desktop ? window.desktop.invoke : httpTransport;
}

export async function call<K extends Channel>(channel: K, ...args: ChannelArgs<K>): Promise<ChannelResults[K]> {
  const result = await transport()(channel, ...args);
  if (!result.ok) throw AppError.fromData(result.error);
  return result.value;
}

type Listener = (event: AppEvent) => void;
const listeners = new Set<Listener>();
let source: EventSource | null = null;
let unsubscribeDesktop: (() => void) | null = null;

function deliver(event: AppEvent): void {
  for (const listener of listeners) listener(event);
}

/** Live events from the core; returns the unsubscribe function. One connection serves every listener. */
export function onEvent(listener: Listener): () => void {
  listeners.add(listener);
  if (listeners.size === 1) {
    if (window.desktop) {
      unsubscribeDesktop = window.desktop.onEvent(deliver);
    } else if (typeof EventSource !== 'undefined') {
      // EventSource cannot send headers, so the token goes in the query; it reconnects by itself.
      source = new EventSource(`api/events?token=${encodeURIComponent(token())}`);
      source.onmessage = (message) => deliver(JSON.parse(message.data) as AppEvent);
    }
  }
  return () => {
    listeners.delete(listener);
    if (listeners.size === 0) {
      source?.close();
      source = null;
      unsubscribeDesktop?.();
      unsubscribeDesktop = null;
    }
  };
}

/** True inside the desktop app, where the OS's open dialog exists. */
export function canPickPaths(): boolean {
  return Boolean(window.desktop);
}

/** The OS's open dialog (desktop only); null when cancelled or in a browser. */
export async function pickPath(kind: PickKind, title: string): Promise<string | null> {
  return window.desktop ? window.desktop.pickPath(kind, title) : null;
}

/** The path of a dropped file or folder: the desktop app knows it, a browser never reveals it. */
export function pathOfDroppedFile(file: File): string | null {
  if (!window.desktop) return null;
  const path = window.desktop.pathForFile(file);
  return path === '' ? null : path;
}

/** What to show for a caught error: the message, and what to do about it. */
export function describeError(error: unknown): { message: string; hint?: string } {
  if (error instanceof AppError) return { message: error.message, hint: error.hint };
  if (error instanceof Error) return { message: error.message };
  return { message: String(error) };
}
