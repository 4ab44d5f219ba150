/**
 * The slave role: runs the media plane (RTSP F1/F2, RTMP ingest) in a supervised worker and keeps it in step: access
 * tables when cameras or tokens change, and the camera leases (who may publish each F2, and each lease's own RTSP
 * credential) whenever one is acquired, released or expires. Renewals change nothing and send nothing.
 */
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LeaseTable } from '../cameras/leases.js';
import type { CameraRegistry } from '../cameras/registry.js';
import type { Config } from '../config/schema.js';
import type { EventBus } from '../events/bus.js';
import type { Logger } from '../log/logger.js';
import type {
  AccessTables,
  FromWorker,
  LeaseEntry,
  MediaCounters,
  PlanePorts,
  PullStatus,
  PlaneStream,
  RelayEntry,
  RelayStatus,
} from '../media/worker/protocol.js';
import type { PreviewSource } from '../media/preview/sources.js';
import type { Store } from '../store/store.js';
import type { ChildSpec, SupervisedChild } from '../supervisor/types.js';

/** What the role needs from the Supervisor. */
export interface Spawner {
  spawn(spec: ChildSpec): SupervisedChild;
  remove(name: string): Promise<void>;
}

/**
 * The camera leases as the role needs them: the token each F2 publisher must be, and the check (user, password hash,
 * HA1: no password) of each lease's own RTSP credential.
 */
export type LeaseHolders = Pick<LeaseTable, 'publishers'>;

/** What the role is built from. */
export interface SlaveDeps {
  config: Config;
  supervisor: Spawner;
  bus: EventBus;
  cameras: CameraRegistry;
  store: Store;
  log: Logger;
  /** The slave's camera leases; absent on a node without the slave role (a master's media plane). */
  leases?: LeaseHolders | null;
}

const WORKER = 'media-plane';
const START_TIMEOUT_MS = 15_000;

/** The worker's entry next to this module: .ts under tsx (tests), .js when built. */
function workerCommand(): { args: string[] } {
  const here = fileURLToPath(import.meta.url);
  const ts = here.endsWith('.ts');
  const entry = join(dirname(here), '..', 'media', 'worker', ts ? 'main.ts' : 'main.js');
  return { args: ts ? ['--import', 'tsx', entry] : [entry] };
}

/** Spawns and feeds the media-plane worker; the streams it reports are served at /api/v1/streams. */
export class SlaveRole {
  private child: SupervisedChild | null = null;
  private offs: Array<() => void> = [];
  private latest: PlaneStream[] = [];
  private totals: MediaCounters | null = null;
  private pullStates: PullStatus[] = [];
  private relayTable: RelayEntry[] = [];
  private relayStates: RelayStatus[] = [];
  /** `<plane>/<path>` of the streams online now (from the worker's events, not its 2 s stats). */
  private readonly online = new Set<string>();
  /** Read-only RTSP user for this core's own readers (previews); per process, never logged or persisted. */
  private readonly reader = { user: 'cupola-local-reader', password: randomBytes(24).toString('base64url') };
  private ports: PlanePorts | null = null;

  constructor(private readonly deps: SlaveDeps) {}

  /** Streams of F1 and F2 as last reported (every 2 s). */
  streams(): PlaneStream[] {
    return this.latest;
  }

  /** Refusals, drops and timeouts of the media ports since the worker started (null before its first report). */
  counters(): MediaCounters | null {
    return this.totals;
  }

  /** The pullers of rtsp-pull cameras, as last reported. */
  pulls(): PullStatus[] {
    return this.pullStates;
  }

  /**
   * A URL this core can read a stream of the plane with (the internal read credential in it: never log it), and
   * whether it is online; null when the plane serves no such path and no camera has that id.
   */
  localStream(plane: 'f1' | 'f2', path: string): PreviewSource | null {
    const ports = this.ports;
    if (!ports) return null;
    const online = this.online.has(`${plane}/${path}`);
    if (!online && this.deps.store.cameras.get(path) === undefined) return null;
    const wildcard = ports.host === '0.0.0.0' || ports.host === '::' || ports.host === '';
    const host = wildcard ? '127.0.0.1' : ports.host.includes(':') ? `[${ports.host}]` : ports.host;
    const port = plane === 'f1' ? ports.f1Port : ports.f2Port;
    const auth = `${encodeURIComponent(this.reader.user)}:${encodeURIComponent(this.reader.password)}`;
    return { url: `rtsp://${auth}@${host}:${port}/${path}`, online };
  }

  /** The master's relays (see app/roles/master.ts): sent to the worker now and after every restart of it. */
  setRelays(relays: RelayEntry[]): void {
    this.relayTable = relays;
    this.child?.send({ type: 'tables', tables: this.tables() });
  }

  /** The relays' pullers, as last reported (every 2 s). */
  relayStatus(): RelayStatus[] {
    return this.relayStates;
  }

  /** Ports the plane listens on once started. */
  get planePorts(): PlanePorts | null {
    return this.ports;
  }

  /** Starts the worker and waits until it listens; a port conflict is a start-up error. */
  async start(): Promise<void> {
    const c = this.deps.config;
    const child = this.deps.supervisor.spawn({
      name: WORKER,
      kind: 'node',
      command: process.execPath,
      ...workerCommand(),
      // Inside Electron, process.execPath is the Electron binary: run it as plain Node.
      env: { ELECTRON_RUN_AS_NODE: '1', CUPOLA_LOG_LEVEL: c.log.level },
      ipc: true,
      stallTimeoutMs: 10_000,
    });
    this.child = child;
    const started = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('media plane did not start within 15 s')), START_TIMEOUT_MS);
      const off = child.onMessage((raw) => {
        const m = raw as FromWorker;
        if (m.type === 'started' || m.type === 'failed') {
          clearTimeout(timer);
          off();
          if (m.type === 'started') resolve();
          else reject(new Error(`media plane: ${m.message}`));
        }
      });
    });
    this.offs.push(child.onMessage((raw) => this.onMessage(raw as FromWorker)));
    const refresh = () => this.child?.send({ type: 'tables', tables: this.tables() });
    for (const type of ['camera.created', 'camera.updated', 'camera.deleted', 'camera.key-rotated'] as const) {
      this.offs.push(this.deps.bus.on(type, refresh));
    }
    this.offs.push(this.deps.bus.on('auth.token-created', refresh), this.deps.bus.on('auth.token-revoked', refresh));
    const pushLeases = () => this.child?.send({ type: 'leases', leases: this.leases() });
    for (const type of ['lease.acquired', 'lease.released', 'lease.expired'] as const) {
      this.offs.push(this.deps.bus.on(type, pushLeases));
    }
    try {
      await started;
    } catch (err) {
      await this.stop();
      throw err;
    }
  }

  /** Stops the worker (the Supervisor's stop sequence) and forgets its streams. */
  async stop(): Promise<void> {
    for (const off of this.offs.splice(0)) off();
    if (this.child) await this.deps.supervisor.remove(WORKER);
    this.child = null;
    this.latest = [];
    this.online.clear();
    this.totals = null;
    this.pullStates = [];
    this.relayStates = [];
  }

  private onMessage(m: FromWorker): void {
    const { bus, config } = this.deps;
    switch (m.type) {
      case 'booted': {
        this.online.clear(); // a new incarnation serves nothing yet
        // Sent by every incarnation: a restarted worker is configured again from the current state.
        const ports = {
          host: config.media.host,
          rtmpPort: config.rtmp.port,
          f1Port: config.rtsp.f1Port,
          f2Port: config.rtsp.f2Port,
        };
        const { maxConnections, maxConnectionsPerIp } = config.rtsp;
        const options = { publisherGraceMs: config.rtsp.publisherGraceS * 1000, maxConnections, maxConnectionsPerIp };
        this.child?.send({ type: 'configure', ports, tables: this.tables(), leases: this.leases(), options });
        break;
      }
      case 'started':
        this.ports = m.ports;
        bus.emit('media.started', {
          host: m.ports.host,
          rtmpPort: m.ports.rtmpPort,
          f1Port: m.ports.f1Port,
          f2Port: m.ports.f2Port,
        });
        break;
      case 'failed':
        this.deps.log.error({ reason: m.message }, 'media plane failed to start');
        break;
      case 'stream-online':
        this.online.add(`${m.plane}/${m.path}`);
        bus.emit('stream.online', { plane: m.plane, path: m.path });
        break;
      case 'stream-offline':
        this.online.delete(`${m.plane}/${m.path}`);
        bus.emit('stream.offline', { plane: m.plane, path: m.path });
        break;
      case 'auth-failed':
        bus.emit('media.auth-failed', { plane: m.plane, path: m.path, remote: m.remote, reason: m.reason });
        break;
      case 'stats':
        this.latest = m.streams;
        this.totals = m.counters;
        this.pullStates = m.pulls;
        this.relayStates = m.relays;
        break;
    }
  }

  /** Who may publish each leased camera's F2, and each lease's RTSP credential check (the worker's lease list). */
  private leases(): LeaseEntry[] {
    const held = this.deps.leases?.publishers() ?? [];
    return held.map((l) => ({
      path: l.cameraId,
      tokenId: l.tokenId,
      holder: l.holder,
      rtspUser: l.rtsp.user,
      rtspHash: l.rtsp.hash,
      rtspHa1: l.rtsp.ha1,
    }));
  }

  private tables(): AccessTables {
    return {
      cameras: this.deps.cameras
        .publishTable()
        .filter((c) => c.enabled && c.kind === 'rtmp-push' && c.keyHash)
        .map((c) => ({ id: c.id, keyHash: c.keyHash! })),
      tokens: this.deps.store.apiTokens.activeCredentials(),
      users: [...this.deps.config.rtsp.users, { ...this.reader, read: ['*'], publish: [] }],
      pulls: this.deps.cameras
        .pullSources()
        .filter((r) => r.source_url)
        .map((r) => ({ id: r.id, url: r.source_url!, user: r.source_user, password: r.source_password })),
      relays: this.relayTable,
    };
  }
}
