/** The Electron security checklist as pure functions, so it is unit-tested without the Electron binary.
 * Only type imports of 'electron' here: this file must load in plain Node. */
import type { WebPreferences } from 'electron';

/** The only places `shell.openExternal` may send the user: https origins, exact host match. Add hosts here only. */
export const EXTERNAL_ALLOW_LIST: readonly string[] = ['cupola.invalid', 'docs.cupola.invalid'];

/** Permissions the UI may get, and only from the core's origin; everything else is denied. */
export const ALLOWED_PERMISSIONS: ReadonlySet<string> = new Set(['fullscreen']);

/** Command-line argument the preload reads the shell version from (sandboxed preloads cannot reach `app`). */
export const SHELL_VERSION_ARG = '--cupola-shell-version=';

function parse(url: string | null | undefined): URL | null {
  if (!url) return null;
  try {
    return new URL(url);
  } catch {
    return null;
  }
}

/** The origin of a URL, or null when it has none (`about:blank`, `data:`, junk). */
export function originOf(url: string | null | undefined): string | null {
  const u = parse(url);
  return u && (u.protocol === 'http:' || u.protocol === 'https:') ? u.origin : null;
}

/** A window may navigate only within the core's own origin (hash routes, reloads); never file://, never elsewhere. */
export function isAllowedNavigation(url: string, coreOrigin: string): boolean {
  const origin = originOf(url);
  return origin !== null && origin === coreOrigin;
}

/** True for https URLs on an allow-listed host without credentials or an odd port: safe to hand to the OS browser. */
export function isAllowedExternal(url: string, allowList: readonly string[] = EXTERNAL_ALLOW_LIST): boolean {
  const u = parse(url);
  if (!u || u.protocol !== 'https:' || u.username || u.password || u.port) return false;
  return allowList.includes(u.hostname.toLowerCase());
}

/** An IPC message is trusted only from a frame showing the core's origin (not a navigated-away or foreign frame). */
export function isTrustedSender(frameUrl: string | null | undefined, coreOrigin: string): boolean {
  return originOf(frameUrl) === coreOrigin;
}

/** Deny by default: a permission is granted only if allow-listed and asked for by the core's origin. */
export function isPermissionAllowed(
  permission: string,
  requestingUrl: string | null | undefined,
  coreOrigin: string,
): boolean {
  return ALLOWED_PERMISSIONS.has(permission) && originOf(requestingUrl) === coreOrigin;
}

/** The webPreferences of every BrowserWindow: isolated, sandboxed, no Node, no webviews. */
export function webPreferences(preload: string, shellVersion: string): WebPreferences {
  return {
    preload,
    contextIsolation: true,
    nodeIntegration: false,
    nodeIntegrationInWorker: false,
    nodeIntegrationInSubFrames: false,
    sandbox: true,
    webviewTag: false,
    webSecurity: true,
    allowRunningInsecureContent: false,
    experimentalFeatures: false,
    navigateOnDragDrop: false,
    safeDialogs: true,
    spellcheck: false,
    additionalArguments: [SHELL_VERSION_ARG + shellVersion],
  };
}

/** The core may listen on a wildcard address; the shell must still load it from loopback (a secure-context origin). */
export function loopbackUrl(coreUrl: string): string {
  const u = new URL(coreUrl);
  if (u.hostname === '0.0.0.0' || u.hostname === '[::]' || u.hostname === 'localhost') u.hostname = '127.0.0.1';
  return u.origin;
}
