/** IPC channel names and argument checks shared by main/ipc.ts; preload.cts repeats the names (it cannot import
 * local files under the sandbox) and a unit test keeps both in step. */
import type { DesktopBridge } from '../app/defs/platform.js';

/** Every channel the preload may invoke. */
export const IPC_CHANNELS = {
  openMosaic: 'cupola:open-mosaic',
  setTrayStatus: 'cupola:set-tray-status',
} as const;

/** A tray status as the DesktopBridge declares it. */
export type TrayStatus = Parameters<DesktopBridge['setTrayStatus']>[0];

const STATUSES: readonly TrayStatus[] = ['ok', 'degraded', 'down'];
const MAX_DETAIL = 200;

/** Validates renderer-supplied tray arguments; anything off-contract is refused (null), long text is cut. */
export function parseTrayStatusArgs(status: unknown, detail: unknown): { status: TrayStatus; detail: string } | null {
  if (typeof status !== 'string' || !STATUSES.includes(status as TrayStatus)) return null;
  if (detail !== undefined && typeof detail !== 'string') return null;
  // Control characters would garble the tray tooltip.
  const clean = Array.from(detail ?? '', (c) => (c < ' ' || c === '\u007f' ? ' ' : c))
    .join('')
    .slice(0, MAX_DETAIL);
  return { status: status as TrayStatus, detail: clean };
}
