/**
 * What the Electron preload exposes as `window.desktop`: the contract's transport, live events,
 * and the few things only a desktop shell can do (OS file dialogs). The renderer uses it through
 * renderer/src/lib/api.ts only; in a browser (`effnet serve`) there is no `window.desktop`.
 */
import type { ApiTransport } from './contract.ts';
import type { AppEvent } from './events.ts';

export type PickKind = 'folder' | 'file';

export interface DesktopBridge {
  readonly invoke: ApiTransport;
  /** Calls `listener` for every AppEvent; returns the unsubscribe function. */
  readonly onEvent: (listener: (event: AppEvent) => void) => () => void;
  /** The OS's open dialog; null when the user cancels. */
  readonly pickPath: (kind: PickKind, title: string) => Promise<string | null>;
  /** The path of a file or folder dropped on the window (Electron's webUtils; a browser has no such thing). */
  readonly pathForFile: (file: File) => string;
  readonly platform: string;
}

/** The IPC channel of the open dialog (a shell feature, not part of the core's contract). */
export const PICK_PATH_CHANNEL = 'dialog:pickPath';
