/** The one interface the renderer uses to reach the core. The browser build implements it over HTTP + SSE; the
 * Electron preload implements the desktop-only part (`desktop`) and `satisfies DesktopBridge`. */
import type { ApiTokenInfo, TokenPair } from './api.js';
import type { BusEvent } from './events.js';
import type { NodeInfo } from './node.js';

/** Desktop-only capabilities, present only inside the Electron shell. */
export interface DesktopBridge {
  /** Shell version string (Electron app version). */
  readonly version: string;
  /** Opens (or focuses) the mosaic window. */
  openMosaicWindow(): Promise<void>;
  /** Sets the tray status shown next to the icon. */
  setTrayStatus(status: 'ok' | 'degraded' | 'down', detail: string): Promise<void>;
}

/** What the UI can ask of the core. */
export interface Platform {
  login(password: string): Promise<TokenPair>;
  logout(): Promise<void>;
  nodeInfo(): Promise<NodeInfo>;
  listTokens(): Promise<ApiTokenInfo[]>;
  /** Subscribes to the core's event stream; returns the unsubscribe function. */
  subscribe(onEvent: (event: BusEvent) => void): () => void;
  /** Present only in the Electron shell. */
  readonly desktop: DesktopBridge | null;
}
