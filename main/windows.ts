/** The dashboard and mosaic windows: at most one of each, both loading the core's HTTP origin. */
import { BrowserWindow } from 'electron';
import { webPreferences } from './security.js';

/** What the windows need to know. */
export interface WindowOptions {
  coreUrl: string;
  preload: string;
  shellVersion: string;
  icon: string;
}

type Kind = 'dashboard' | 'mosaic';

const LAYOUT: Record<Kind, { width: number; height: number; title: string; hash: string }> = {
  dashboard: { width: 1280, height: 800, title: 'Cupola', hash: '#/dashboard' },
  mosaic: { width: 1600, height: 900, title: 'Cupola — Mosaic', hash: '#/mosaic' },
};

/** Opens, focuses and closes the app's windows. */
export class WindowManager {
  private readonly open = new Map<Kind, BrowserWindow>();

  constructor(private readonly options: WindowOptions) {}

  /** Shows the dashboard, creating it if needed. */
  openDashboard(): BrowserWindow {
    return this.show('dashboard');
  }

  /** Shows the mosaic wall, creating it if needed. */
  openMosaic(): BrowserWindow {
    return this.show('mosaic');
  }

  /** Destroys every window without running beforeunload handlers (the app is quitting). */
  destroyAll(): void {
    for (const win of this.open.values()) if (!win.isDestroyed()) win.destroy();
    this.open.clear();
  }

  private show(kind: Kind): BrowserWindow {
    const existing = this.open.get(kind);
    if (existing && !existing.isDestroyed()) {
      if (existing.isMinimized()) existing.restore();
      existing.show();
      existing.focus();
      return existing;
    }
    const layout = LAYOUT[kind];
    const win = new BrowserWindow({
      width: layout.width,
      height: layout.height,
      title: layout.title,
      icon: this.options.icon,
      show: false,
      backgroundColor: '#0d1117',
      autoHideMenuBar: true,
      webPreferences: webPreferences(this.options.preload, this.options.shellVersion),
    });
    this.open.set(kind, win);
    win.once('ready-to-show', () => win.show());
    win.on('closed', () => {
      if (this.open.get(kind) === win) this.open.delete(kind);
    });
    // Always the core's http://127.0.0.1 origin, never file://: same origin as the API, so the cookie and CSP apply.
    void win.loadURL(`${this.options.coreUrl}/${layout.hash}`);
    return win;
  }
}
