/** Applies the security checklist to the session and to every webContents the app ever creates. */
import { shell, type Session, type WebContents } from 'electron';
import { isAllowedExternal, isAllowedNavigation, isPermissionAllowed } from './security.js';

function openExternalIfAllowed(url: string): void {
  if (isAllowedExternal(url)) void shell.openExternal(url);
}

/** Deny-by-default permission handlers for a session (requests and synchronous checks alike). */
export function hardenSession(session: Session, coreOrigin: string): void {
  session.setPermissionRequestHandler((_wc, permission, callback, details) => {
    callback(isPermissionAllowed(permission, details.requestingUrl, coreOrigin));
  });
  session.setPermissionCheckHandler((_wc, permission, requestingOrigin) =>
    isPermissionAllowed(permission, requestingOrigin, coreOrigin),
  );
  session.setDevicePermissionHandler(() => false);
}

/** Blocks navigation away from the core, every `window.open`, and webviews; called for each new webContents. */
export function hardenWebContents(contents: WebContents, coreOrigin: () => string | null): void {
  const guard = (event: Electron.Event, url: string, openOutside: boolean) => {
    const origin = coreOrigin();
    if (origin && isAllowedNavigation(url, origin)) return;
    event.preventDefault();
    // A clicked docs link still works: it opens in the OS browser, never inside the app.
    if (openOutside) openExternalIfAllowed(url);
  };
  contents.on('will-navigate', (event) => guard(event, event.url, true));
  // will-frame-navigate also fires for the main frame, already handled above; here only subframes.
  contents.on('will-frame-navigate', (event) => {
    if (!event.isMainFrame) guard(event, event.url, false);
  });
  contents.on('will-redirect', (event) => guard(event, event.url, false));
  contents.on('will-attach-webview', (event) => event.preventDefault());
  contents.setWindowOpenHandler(({ url }) => {
    openExternalIfAllowed(url);
    return { action: 'deny' };
  });
}
