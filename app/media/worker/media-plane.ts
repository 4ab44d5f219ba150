/**
 * The media plane of a node: RTSP F1 and F2 servers and the RTMP server. On a slave F1 is fed by the RTMP ingest and
 * by pulled RTSP cameras; on a master by relays of the slaves' F1 (also served over RTMP) and F2.
 */
import { createHash } from 'node:crypto';
import type { Logger } from '../../log/logger.js';
import type { PlayRequest } from '../rtmp/index.js';
import { RtspServer, type AuthorizeRequest, type AuthResult } from '../rtsp/index.js';
import { F1Ingest } from './f1-ingest.js';
import { PullSet, type PullSpec } from './pull-set.js';
import { rtspAndRtmp } from './relay-target.js';
import type {
  AccessTables,
  FromWorker,
  LeaseEntry,
  MediaCounters,
  PlaneOptions,
  PullStatus,
  PlanePorts,
  PlaneStream,
  RelayStatus,
} from './protocol.js';
import { decideRtsp, type LeaseMap, type Plane } from './rtsp-policy.js';

/** Where the plane reports to (the IPC channel in the worker, a function in tests). */
export type Report = (message: FromWorker) => void;

/** Refusals remembered between the verdict and the server's auth-failed event; more means events were lost. */
const MAX_PENDING_REFUSALS = 256;

/** Owns the plane's servers; start() listens on every port or fails without leaving one open. */
export class MediaPlane {
  private tables: AccessTables;
  private leases: LeaseMap = new Map();
  private leaseRefused = 0;
  /** `<remote> <path>` of publishers refused for a lease, until the server reports the refusal (see watch()). */
  private readonly leaseRefusals = new Map<string, LeaseEntry>();
  private servers: Array<{ plane: Plane; server: RtspServer }> = [];
  private unsubscribe: Array<() => void> = [];
  private ingest: F1Ingest | null = null;
  private pull: PullSet | null = null;
  private relays: PullSet | null = null;
  private relayTargets: { f1: PullSpec['target']; f2: PullSpec['target'] } | null = null;

  constructor(
    private readonly ports: PlanePorts,
    tables: AccessTables,
    private readonly log: Logger,
    private readonly report: Report,
    private readonly options: PlaneOptions = { publisherGraceMs: 10_000 },
  ) {
    this.tables = tables;
  }

  /** Replaces the access tables; takes effect for the next authorization (sessions already admitted stay). */
  setTables(tables: AccessTables): void {
    this.tables = tables;
    this.pull?.reconcile(this.pullSpecs());
    this.relays?.reconcile(this.relaySpecs());
  }

  /**
   * Replaces the leased F2 paths; takes effect for the next publish authorization. A publisher admitted before stays
   * until the holder publishes (the server's takeover closes it, and it cannot come back while the lease runs):
   * ending it here would also close its readers, which a takeover by a compatible stream keeps.
   */
  setLeases(leases: LeaseEntry[]): void {
    this.leases = new Map(leases.map((l) => [l.path, l]));
  }

  /** The actual ports (0 in the request resolved). */
  get actualPorts(): PlanePorts {
    const port = (plane: Plane) => this.servers.find((s) => s.plane === plane)?.server.port ?? 0;
    return { ...this.ports, rtmpPort: this.ingest?.port ?? 0, f1Port: port('f1'), f2Port: port('f2') };
  }

  /** Starts F1 then F2; on failure stops what started and rethrows. */
  async start(): Promise<void> {
    const make = (plane: Plane, port: number) =>
      new RtspServer({
        port,
        host: this.ports.host,
        log: this.log.child({ component: `rtsp-${plane}` }),
        authorize: (req) => this.authorize(plane, req),
        limits: {
          publisherGraceMs: this.options.publisherGraceMs,
          ...(this.options.maxConnections !== undefined && { maxConnections: this.options.maxConnections }),
          ...(this.options.maxConnectionsPerIp !== undefined && {
            maxConnectionsPerIp: this.options.maxConnectionsPerIp,
          }),
        },
      });
    try {
      for (const [plane, port] of [
        ['f1', this.ports.f1Port],
        ['f2', this.ports.f2Port],
      ] as const) {
        const server = make(plane, port);
        await server.start();
        this.servers.push({ plane, server });
        this.watch(plane, server);
      }
      const f1 = this.servers.find((s) => s.plane === 'f1')!.server;
      const ingest = new F1Ingest({
        host: this.ports.host,
        port: this.ports.rtmpPort,
        log: this.log,
        tables: () => this.tables,
        f1,
        authorizePlay: (req) => this.playAllowed(req),
        onRefused: (req) =>
          this.report({
            type: 'auth-failed',
            plane: 'rtmp',
            path: req.name,
            remote: req.remote,
            reason: 'wrong key or unknown camera',
          }),
      });
      this.ingest = ingest;
      await ingest.start();
      const f2 = this.servers.find((s) => s.plane === 'f2')!.server;
      this.pull = new PullSet(this.log);
      this.pull.start(this.pullSpecs());
      this.relayTargets = { f1: rtspAndRtmp(f1, () => ingest.rtmp, this.log), f2 };
      this.relays = new PullSet(this.log);
      this.relays.start(this.relaySpecs());
    } catch (err) {
      await this.stop();
      throw err;
    }
  }

  /** Stops every server; resolves when their sockets are closed. */
  async stop(): Promise<void> {
    for (const off of this.unsubscribe.splice(0)) off();
    await this.relays?.stop();
    this.relays = null;
    await this.pull?.stop();
    this.pull = null;
    await this.ingest?.stop();
    this.ingest = null;
    const servers = this.servers.splice(0).reverse();
    for (const { server } of servers) await server.stop();
  }

  /** Stats of every stream on both planes. */
  streams(): PlaneStream[] {
    const ingest = new Map((this.ingest?.streams() ?? []).map((s) => [s.name, s]));
    return this.servers.flatMap(({ plane, server }) =>
      server.paths().map((stats): PlaneStream => {
        const pushed = plane === 'f1' ? ingest.get(stats.path) : undefined;
        if (pushed) return { plane, stats, ingest: pushed };
        const pulled = plane === 'f1' ? this.pull?.stats(stats.path) : undefined;
        if (pulled) return { plane, stats, pull: brief(pulled) };
        const relayed = this.relays?.stats(`${plane} ${stats.path}`);
        return relayed ? { plane, stats, relay: brief(relayed) } : { plane, stats };
      }),
    );
  }

  /** Every rtsp-pull camera's puller state. */
  pulls(): PullStatus[] {
    return (this.pull?.list() ?? []).map(({ key, ...rest }) => ({ camera: key, ...rest }));
  }

  /** Every relay's puller state (a master's). */
  relayStates(): RelayStatus[] {
    return (this.relays?.list() ?? []).map(({ key, ...rest }) => {
      const [plane, path] = key.split(' ') as ['f1' | 'f2', string];
      return { plane, path, ...rest };
    });
  }

  private pullSpecs(): PullSpec[] {
    const f1 = this.servers.find((s) => s.plane === 'f1')?.server;
    if (!f1) return [];
    return this.tables.pulls.map((p) => ({ key: p.id, path: p.id, target: f1, ...creds(p) }));
  }

  private relaySpecs(): PullSpec[] {
    const targets = this.relayTargets;
    if (!targets) return [];
    return this.tables.relays.map((r) => ({
      key: `${r.plane} ${r.path}`,
      path: r.path,
      target: targets[r.plane],
      ...creds(r),
    }));
  }

  /** RTMP plays: relayed F1 streams only, with an API token as `?token=`. */
  private playAllowed(req: PlayRequest): boolean {
    const path = `${req.app}/${req.name}`;
    if (!this.tables.relays.some((r) => r.plane === 'f1' && r.path === path)) return false;
    const token = req.query.token;
    if (!token) return false;
    const hash = createHash('sha256').update(token).digest('base64url');
    return this.tables.tokens.some((t) => t.hash === hash);
  }

  /** Counters of both RTSP servers and of the RTMP ingest. */
  counters(): MediaCounters {
    const of = (plane: Plane) => this.servers.find((s) => s.plane === plane)!.server.counters;
    return { f1: of('f1'), f2: { ...of('f2'), leaseRefused: this.leaseRefused }, rtmp: this.ingest?.counters ?? null };
  }

  /** The policy's verdict; a publisher refused for a lease is counted and logged (token id and holder, no secret). */
  private authorize(plane: Plane, req: AuthorizeRequest): AuthResult {
    const verdict = decideRtsp(this.tables, plane, req, this.leases);
    const lease = verdict.lease;
    if (lease) {
      this.leaseRefused++;
      if (this.leaseRefusals.size >= MAX_PENDING_REFUSALS) this.leaseRefusals.clear();
      this.leaseRefusals.set(`${req.remote} ${req.path}`, lease);
      this.log.warn(
        { plane, path: req.path, remote: req.remote, token: verdict.tokenId ?? null, holder: lease.holder },
        'publish refused: the camera is leased to another compressor',
      );
    }
    return verdict.result;
  }

  private watch(plane: Plane, server: RtspServer): void {
    this.unsubscribe.push(
      server.on('path-online', (e) => this.report({ type: 'stream-online', plane, path: e.path })),
      server.on('path-offline', (e) => this.report({ type: 'stream-offline', plane, path: e.path })),
      server.on('auth-failed', (e) => {
        // The server reports the 403 right after the verdict: say why when it was a lease.
        const key = `${e.remote} ${e.path}`;
        const lease = e.reason === 'forbidden' ? this.leaseRefusals.get(key) : undefined;
        this.leaseRefusals.delete(key);
        const reason = lease ? `forbidden: leased to ${lease.holder}` : e.reason;
        this.report({ type: 'auth-failed', plane, path: e.path, remote: e.remote, reason });
      }),
    );
  }
}

function brief(s: { state: PullStatus['state']; since: string; reconnects: number; lastError: string | null }) {
  return { state: s.state, since: s.since, reconnects: s.reconnects, lastError: s.lastError };
}

function creds(p: { url: string; user: string | null; password: string | null }) {
  return { url: p.url, user: p.user, password: p.password };
}
