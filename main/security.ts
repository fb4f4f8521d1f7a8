import type { IpcMainInvokeEvent, Session, WebContents } from 'electron';

import { CONTENT_SECURITY_POLICY } from '../app/common/ipc/csp.ts';

/**
 * Electron's security checklist: a strict CSP (the same one `effnet serve` sends), no navigation
 * away from the app, no new windows, and IPC accepted only from the app's own top frame.
 */
export { CONTENT_SECURITY_POLICY };

export function applySessionPolicy(session: Session): void {
  session.webRequest.onHeadersReceived((details, callback) => {
    callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [CONTENT_SECURITY_POLICY] } });
  });
  // The app asks for no permissions (camera, geolocation, notifications go through main).
  session.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
}

export function lockDownContents(contents: WebContents, isAppUrl: (url: string) => boolean): void {
  contents.on('will-navigate', (event, url) => {
    if (!isAppUrl(url)) event.preventDefault();
  });
  contents.setWindowOpenHandler(() => ({ action: 'deny' }));
  contents.on('will-attach-webview', (event) => event.preventDefault());
}

/** IPC must come from the app's own page in the main frame, not from an iframe or a navigated page. */
export function isTrustedSender(event: IpcMainInvokeEvent, isAppUrl: (url: string) => boolean): boolean {
  const frame = event.senderFrame;
  return frame !== null && frame.parent === null && isAppUrl(frame.url);
}
