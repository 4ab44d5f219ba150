/** Tray health: probes the core's `/health` and folds it with what the UI reported. Plain Node, no Electron. */
import type { TrayStatus } from './ipc-contract.js';

/** One observation of the core. */
export interface HealthReading {
  status: TrayStatus;
  detail: string;
}

const RANK: Record<TrayStatus, number> = { ok: 0, degraded: 1, down: 2 };

/** The worse of two readings (the first one on a tie). */
export function worst(a: HealthReading, b: HealthReading | null): HealthReading {
  return b && RANK[b.status] > RANK[a.status] ? b : a;
}

/** Asks `/health`. Down when it cannot be reached in time; degraded when it answers but not `ok`, or slowly. */
export async function probeHealth(coreUrl: string, timeoutMs = 3000, slowMs = 1500): Promise<HealthReading> {
  const started = performance.now();
  try {
    const res = await fetch(new URL('/health', coreUrl), { signal: AbortSignal.timeout(timeoutMs) });
    const body = (await res.json().catch(() => null)) as { status?: unknown } | null;
    const elapsed = performance.now() - started;
    if (!res.ok) return { status: 'degraded', detail: `health answered HTTP ${res.status}` };
    if (body?.status !== 'ok')
      return { status: 'degraded', detail: `health status ${String(body?.status ?? 'missing')}` };
    if (elapsed > slowMs) return { status: 'degraded', detail: `health took ${Math.round(elapsed)} ms` };
    return { status: 'ok', detail: 'core healthy' };
  } catch (err) {
    const why = (err as Error).name === 'TimeoutError' ? `no answer in ${timeoutMs} ms` : 'core unreachable';
    return { status: 'down', detail: why };
  }
}

/** Tooltip text for the tray icon. */
export function trayTooltip(reading: HealthReading, coreUrl: string): string {
  return `Cupola — ${reading.status}: ${reading.detail}\n${coreUrl}`;
}
