/**
 * Helpers for the *worker* side of a node child spawned with `ipc: true`. A worker must exit when its IPC channel
 * disconnects: that is how it learns the core is gone (or wants it to stop) when no signal reaches it.
 */

/** The message a worker sends to prove it is alive when it has nothing else to say; the Supervisor swallows it. */
export const HEARTBEAT = Object.freeze({ cupola: 'heartbeat' as const });

/** True for the heartbeat message. */
export function isHeartbeat(message: unknown): boolean {
  return typeof message === 'object' && message !== null && (message as { cupola?: unknown }).cupola === 'heartbeat';
}

/** Options of superviseWorker. */
export interface WorkerOptions {
  /** Send HEARTBEAT this often so a quiet worker is not taken for stalled (default 1000 ms; 0 = never). */
  heartbeatMs?: number;
  /** Called before exiting on disconnect, e.g. to flush a file; must be quick. */
  onDisconnect?: () => void;
}

/**
 * Call once at the top of a worker: exits the process when the channel to the core closes, and sends heartbeats.
 * Returns a function that cancels both (for tests). Does nothing when the process has no IPC channel.
 */
export function superviseWorker(opts: WorkerOptions = {}): () => void {
  if (!process.send || !process.connected) return () => {};
  const onDisconnect = () => {
    try {
      opts.onDisconnect?.();
    } finally {
      process.exit(0);
    }
  };
  process.once('disconnect', onDisconnect);
  const every = opts.heartbeatMs ?? 1000;
  const timer = every > 0 ? setInterval(() => process.connected && process.send?.(HEARTBEAT), every) : undefined;
  // The heartbeat must not be what keeps the worker alive: the IPC channel already does.
  timer?.unref();
  return () => {
    process.off('disconnect', onDisconnect);
    if (timer) clearInterval(timer);
  };
}
