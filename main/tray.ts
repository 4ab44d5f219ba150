/** Tray icon: polls the core's /health and shows ok / degraded / down, with a small menu. */
import { Menu, Tray, nativeImage } from 'electron';
import { join } from 'node:path';
import { probeHealth, trayTooltip, worst, type HealthReading } from './health.js';
import type { TrayStatus } from './ipc-contract.js';

/** What the tray needs. */
export interface TrayOptions {
  coreUrl: string;
  /** Directory holding tray-{ok,degraded,down}.png (+ @2x). */
  iconDir: string;
  pollMs?: number;
  onOpenDashboard(): void;
  onOpenMosaic(): void;
  onQuit(): void;
}

/** Owns the Tray and its polling timer. */
export class TrayController {
  private tray: Tray | null = null;
  private timer: NodeJS.Timeout | null = null;
  private polled: HealthReading = { status: 'down', detail: 'starting' };
  private reported: HealthReading | null = null;
  private shown: TrayStatus | null = null;

  constructor(private readonly options: TrayOptions) {}

  /** Creates the icon and starts polling. */
  start(): void {
    this.tray = new Tray(this.icon('down'));
    this.tray.setContextMenu(
      Menu.buildFromTemplate([
        { label: 'Open dashboard', click: () => this.options.onOpenDashboard() },
        { label: 'Open mosaic', click: () => this.options.onOpenMosaic() },
        { type: 'separator' },
        { label: 'Quit Cupola', click: () => this.options.onQuit() },
      ]),
    );
    this.tray.on('click', () => this.options.onOpenDashboard());
    void this.poll();
    this.timer = setInterval(() => void this.poll(), this.options.pollMs ?? 5000);
  }

  /** Status reported by the UI (it sees more than /health); 'ok' clears it. */
  setReported(status: TrayStatus, detail: string): void {
    this.reported = status === 'ok' ? null : { status, detail };
    this.render();
  }

  /** Stops polling and removes the icon. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.tray?.destroy();
    this.tray = null;
  }

  private async poll(): Promise<void> {
    this.polled = await probeHealth(this.options.coreUrl);
    this.render();
  }

  private render(): void {
    if (!this.tray || this.tray.isDestroyed()) return;
    const reading = worst(this.polled, this.reported);
    this.tray.setToolTip(trayTooltip(reading, this.options.coreUrl));
    if (reading.status !== this.shown) {
      this.shown = reading.status;
      this.tray.setImage(this.icon(reading.status));
    }
  }

  private icon(status: TrayStatus): Electron.NativeImage {
    // createFromPath picks up the @2x sibling by itself on HiDPI screens.
    return nativeImage.createFromPath(join(this.options.iconDir, `tray-${status}.png`));
  }
}
