/**
 * The demo's two Supervisors: one for the nodes (their first restart delay is an option: tests keep a killed node
 * down until they start it again) and one for the cameras (quick to reconnect to a slave that came back). Two,
 * because backoff is set per Supervisor.
 */
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { EventBus } from '../events/bus.js';
import { Supervisor } from '../supervisor/supervisor.js';
import type { SupervisorOptions } from '../supervisor/types.js';

/** Nodes: SIGTERM first, and 6 s for `cupola serve` to stop on its own (it gives itself 5 s) before SIGKILL. */
const NODES: Omit<SupervisorOptions, 'backoffInitialMs'> = {
  stallTimeoutMs: 5000,
  backoffMaxMs: 30_000,
  healthyAfterMs: 30_000,
  stopTimeoutMs: 6000,
};

/** Cameras: at most 4 s between attempts to push to a slave that is away. */
const CAMERAS: SupervisorOptions = {
  stallTimeoutMs: 5000,
  backoffInitialMs: 500,
  backoffMaxMs: 4000,
  healthyAfterMs: 30_000,
  stopTimeoutMs: 2000,
};

/** The Supervisors, started; their run files (for the reaper) live under `<root>/run`. */
export async function startSupervisors(
  root: string,
  log: Logger,
  bus: EventBus,
  nodeRestartDelayMs: number,
): Promise<{ nodes: Supervisor; cameras: Supervisor }> {
  const nodes = new Supervisor({
    log: log.child({ component: 'demo-nodes' }),
    bus,
    options: { ...NODES, backoffInitialMs: nodeRestartDelayMs },
    runDir: join(root, 'run', 'nodes'),
  });
  const cameras = new Supervisor({
    log: log.child({ component: 'demo-cameras' }),
    bus,
    options: CAMERAS,
    runDir: join(root, 'run', 'cameras'),
  });
  await nodes.start();
  await cameras.start();
  return { nodes, cameras };
}
