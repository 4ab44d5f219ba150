/** Electron entry: one instance, the core in-process, a dashboard window, a tray; quitting stops the core first. */
import { app, clipboard, dialog, Menu, session } from 'electron';
import { join } from 'node:path';
import { startCore, type CoreHandle } from './core-host.js';
import { hardenSession, hardenWebContents } from './harden.js';
import { registerIpc } from './ipc.js';
import { PRELOAD_PATH } from './preload-path.js';
import { TrayController } from './tray.js';
import { WindowManager } from './windows.js';

/** How long quitting waits for the core before exiting anyway (it stops ffmpeg children, which may be slow). */
const STOP_DEADLINE_MS = 15_000;

let core: CoreHandle | null = null;
let coreOrigin: string | null = null;
let windows: WindowManager | null = null;
let tray: TrayController | null = null;
let shutdown: Promise<void> | null = null;

// Before anything else: every renderer sandboxed, whatever a later webPreferences says.
app.enableSandbox();

function fail(title: string, err: unknown): void {
  dialog.showErrorBox(title, err instanceof Error ? err.message : String(err));
}

async function showGeneratedPassword(password: string, url: string): Promise<void> {
  const { response } = await dialog.showMessageBox({
    type: 'info',
    title: 'Cupola admin password',
    message: 'An admin password was generated. It is shown only this once.',
    detail: `Password: ${password}\n\nSign in at ${url}/ with it, then change it in Settings.`,
    buttons: ['Copy password', 'Close'],
    defaultId: 0,
  });
  if (response === 0) clipboard.writeText(password);
}

async function stopEverything(): Promise<void> {
  tray?.stop();
  windows?.destroyAll();
  if (!core) return;
  const deadline = new Promise<void>((resolve) => setTimeout(resolve, STOP_DEADLINE_MS).unref());
  try {
    await Promise.race([core.stop('desktop app quit'), deadline]);
  } catch (err) {
    console.error('cupola: core failed to stop cleanly', err);
  }
}

async function run(): Promise<void> {
  await app.whenReady();
  // No default menu: it would offer reload/devtools shortcuts and links we do not vet.
  Menu.setApplicationMenu(null);

  try {
    const dataDir = app.commandLine.getSwitchValue('data-dir') || undefined;
    core = await startCore({ env: process.env, dataDir });
  } catch (err) {
    fail('Cupola could not start its core', err);
    app.exit(1);
    return;
  }
  coreOrigin = new URL(core.url).origin;
  hardenSession(session.defaultSession, coreOrigin);

  const resources = join(app.getAppPath(), 'resources');
  const wm = new WindowManager({
    coreUrl: core.url,
    preload: PRELOAD_PATH,
    shellVersion: app.getVersion(),
    icon: join(resources, 'icon.png'),
  });
  windows = wm;
  const trayController = new TrayController({
    coreUrl: core.url,
    iconDir: join(resources, 'tray'),
    onOpenDashboard: () => wm.openDashboard(),
    onOpenMosaic: () => wm.openMosaic(),
    onQuit: () => app.quit(),
  });
  tray = trayController;
  trayController.start();
  registerIpc({
    coreOrigin,
    openMosaic: () => wm.openMosaic(),
    setTrayStatus: (status, detail) => trayController.setReported(status, detail),
  });

  wm.openDashboard();
  if (core.generatedPassword) await showGeneratedPassword(core.generatedPassword, core.url);
}

if (!app.requestSingleInstanceLock()) {
  // Another Cupola owns the data dir and the port: hand over to it (it shows its dashboard) and leave.
  app.quit();
} else {
  app.on('second-instance', () => windows?.openDashboard());
  // Hardening hooks go on before any webContents exists, so none can slip through.
  app.on('web-contents-created', (_event, contents) => hardenWebContents(contents, () => coreOrigin));
  // Closing the last window keeps the app in the tray: the core goes on serving cameras.
  app.on('window-all-closed', () => {});
  app.on('before-quit', (event) => {
    event.preventDefault();
    shutdown ??= stopEverything().finally(() => app.exit(0));
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => app.quit());
  run().catch((err: unknown) => {
    fail('Cupola failed', err);
    app.exit(1);
  });
}
