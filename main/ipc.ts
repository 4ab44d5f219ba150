/** ipcMain handlers for the DesktopBridge; every one checks that the sender frame shows the core's origin. */
import { ipcMain, type IpcMainInvokeEvent } from 'electron';
import { IPC_CHANNELS, parseTrayStatusArgs, type TrayStatus } from './ipc-contract.js';
import { isTrustedSender } from './security.js';

/** What the handlers act on. */
export interface IpcTargets {
  coreOrigin: string;
  openMosaic(): void;
  setTrayStatus(status: TrayStatus, detail: string): void;
}

function assertTrusted(event: IpcMainInvokeEvent, coreOrigin: string): void {
  // senderFrame is null once the frame navigated away or was destroyed: untrusted as well.
  if (!isTrustedSender(event.senderFrame?.url, coreOrigin))
    throw new Error('IPC refused: sender is not the Cupola core origin');
}

/** Registers the handlers; returns the function that removes them. */
export function registerIpc(targets: IpcTargets): () => void {
  ipcMain.handle(IPC_CHANNELS.openMosaic, (event) => {
    assertTrusted(event, targets.coreOrigin);
    targets.openMosaic();
  });
  ipcMain.handle(IPC_CHANNELS.setTrayStatus, (event, status: unknown, detail: unknown) => {
    assertTrusted(event, targets.coreOrigin);
    const args = parseTrayStatusArgs(status, detail);
    if (!args) throw new Error('IPC refused: invalid tray status');
    targets.setTrayStatus(args.status, args.detail);
  });
  return () => {
    for (const channel of Object.values(IPC_CHANNELS)) ipcMain.removeHandler(channel);
  };
}
