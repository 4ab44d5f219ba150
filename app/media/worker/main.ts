/** Entry of the media-plane worker: a Supervisor-managed Node process, so that a crash here costs seconds, not the node. */
import { createLogger } from '../../log/logger.js';
import { superviseWorker } from '../../supervisor/worker.js';
import { MediaPlane } from './media-plane.js';
import type { FromWorker, ToWorker } from './protocol.js';

const STATS_EVERY_MS = 2000;

const { log } = createLogger({ level: (process.env.CUPOLA_LOG_LEVEL as 'info' | undefined) ?? 'info' });
const send = (message: FromWorker) => {
  if (process.connected) process.send?.(message);
};
let plane: MediaPlane | null = null;
let statsTimer: NodeJS.Timeout | undefined;

superviseWorker({ heartbeatMs: 1000 });

process.on('message', (raw: unknown) => {
  const message = raw as ToWorker;
  if (message.type === 'tables') plane?.setTables(message.tables);
  if (message.type === 'leases') plane?.setLeases(message.leases);
  if (message.type === 'configure' && !plane) {
    const p = new MediaPlane(message.ports, message.tables, log, send, message.options);
    p.setLeases(message.leases);
    plane = p;
    p.start().then(
      () => {
        send({ type: 'started', ports: p.actualPorts });
        statsTimer = setInterval(
          () =>
            send({
              type: 'stats',
              streams: p.streams(),
              counters: p.counters(),
              pulls: p.pulls(),
              relays: p.relayStates(),
            }),
          STATS_EVERY_MS,
        );
      },
      (err: unknown) => {
        send({ type: 'failed', message: (err as Error).message });
        // Exit non-zero so the Supervisor backs off and tries again (a port may be freed later).
        setTimeout(() => process.exit(1), 100);
      },
    );
  }
});

async function shutdown(): Promise<void> {
  clearInterval(statsTimer);
  await plane?.stop();
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown());
process.on('SIGINT', () => void shutdown());
process.on('uncaughtException', (err) => {
  log.fatal({ err }, 'media plane crashed');
  process.exit(70);
});

send({ type: 'booted' });
