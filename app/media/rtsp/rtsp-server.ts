/** Cupola's RTSP server: publishers (ANNOUNCE/RECORD) and readers (DESCRIBE/PLAY) on one port, TCP and UDP. */
import { createServer, type Server, type Socket } from 'node:net';
import type { RtspPathStats, RtspServerCounters } from '../../defs/rtsp.js';
import type { Logger } from '../../log/logger.js';
import { NonceIssuer } from './auth.js';
import { RtspConnection, type ServerContext } from './connection.js';
import { PathRegistry, isValidPathName } from './path-registry.js';
import { formatResponse } from './response.js';
import { parseSdp } from './sdp.js';
import { TypedEmitter } from './typed-emitter.js';
import {
  DEFAULT_LIMITS,
  type PublisherHandle,
  type RtspLimits,
  type RtspServerEvents,
  type RtspServerOptions,
} from './types.js';
import { UdpPair } from './udp-pair.js';

/** Refused connections are logged at most this often (with a count). */
const REFUSAL_LOG_MS = 10_000;

/** See the file comment; constructed idle, `start()` binds, `stop()` releases everything. */
export class RtspServer {
  private readonly log: Logger;
  private readonly limits: RtspLimits;
  private readonly totals: RtspServerCounters = {
    connections: 0,
    connectionsRejected: 0,
    badRequests: 0,
    authFailures: 0,
    authForbidden: 0,
    readersDropped: 0,
    sessionsTimedOut: 0,
  };
  private readonly registry: PathRegistry;
  private udp: UdpPair | undefined;
  /** What connections see of the server (kept apart so the public surface stays small). */
  private readonly ctx: ServerContext;
  private readonly events: TypedEmitter<RtspServerEvents>;
  private readonly connections = new Set<RtspConnection>();
  /** Sockets refused at accept (limits); kept only to destroy them on stop. */
  private readonly refused = new Set<Socket>();
  private readonly perIp = new Map<string, number>();
  private refusedSinceLog = 0;
  private refusalLoggedAt = 0;
  private server: Server | undefined;
  private sweeper: NodeJS.Timeout | undefined;
  private state: 'new' | 'started' | 'stopping' | 'stopped' = 'new';

  constructor(private readonly options: RtspServerOptions) {
    this.log = options.log.child({ module: 'rtsp' });
    this.limits = { ...DEFAULT_LIMITS, ...options.limits };
    this.events = new TypedEmitter((type, err) => this.log.warn({ event: type, err }, 'RTSP event listener threw'));
    this.registry = new PathRegistry(this.events, this.log, this.limits.publisherGraceMs);
    const udp = (): UdpPair | undefined => this.udp;
    this.ctx = {
      log: this.log,
      limits: this.limits,
      registry: this.registry,
      nonces: new NonceIssuer(this.limits.nonceTtlMs),
      authorize: options.authorize,
      counters: this.totals,
      get udp() {
        return udp();
      },
      authFailed: (event) => this.authFailed(event),
      readerDropped: (path, remote, reason) => this.readerDropped(path, remote, reason),
    };
  }

  /** Server-wide totals since start (a copy). */
  get counters(): RtspServerCounters {
    return { ...this.totals };
  }

  /** Binds the TCP port and the UDP pair; a taken port rejects with a message naming it. */
  async start(): Promise<void> {
    if (this.state !== 'new') throw new Error(`RtspServer is ${this.state}; it can be started once`);
    this.state = 'started';
    const host = this.options.host ?? '0.0.0.0';
    const server = createServer({ noDelay: true }, (socket) => this.accept(socket));
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen({ port: this.options.port, host, exclusive: true }, () => {
          server.off('error', reject);
          resolve();
        });
      });
      this.server = server;
      server.on('error', (err) => this.log.error({ err }, 'RTSP listener error'));
      if (this.options.udpRtpPort !== false) {
        const udp = new UdpPair(host, this.options.udpRtpPort ?? 0);
        await udp.start();
        this.udp = udp;
      }
    } catch (err) {
      await this.stop();
      const e = err as NodeJS.ErrnoException;
      if (e.code === 'EADDRINUSE') throw new Error(`RTSP: port ${host}:${this.options.port} is already in use`);
      if (e.code === 'EACCES') throw new Error(`RTSP: no permission to listen on ${host}:${this.options.port}`);
      throw err;
    }
    const l = this.limits;
    const every = Math.min(l.requestTimeoutMs, l.partialRequestTimeoutMs, l.sessionTimeoutMs, l.readerStallMs) / 4;
    this.sweeper = setInterval(() => this.sweep(), Math.max(50, Math.min(1000, every)));
    this.log.info({ port: this.port, udp: this.udp?.ports ?? null }, 'RTSP server listening');
  }

  /** The bound TCP port (after start()). */
  get port(): number {
    const address = this.server?.address();
    return typeof address === 'object' && address ? address.port : 0;
  }

  /** The bound UDP RTP/RTCP ports, or null when UDP is off. */
  get udpPorts(): [number, number] | null {
    return this.udp?.ports ?? null;
  }

  /** Closes the listener, every connection, the UDP sockets and the sweeper; resolves when all are gone. */
  async stop(): Promise<void> {
    if (this.state === 'stopping' || this.state === 'stopped') return;
    this.state = 'stopping';
    clearInterval(this.sweeper);
    this.sweeper = undefined;
    const closing = this.server ? new Promise<void>((resolve) => this.server!.close(() => resolve())) : undefined;
    this.registry.closeAll('server stopping');
    const sockets = [...[...this.connections].map((c) => c.socket), ...this.refused];
    const gone = sockets.map((s) => (s.closed ? Promise.resolve() : new Promise((r) => s.once('close', r))));
    for (const c of this.connections) c.destroy('server stopping');
    for (const s of this.refused) s.destroy();
    await Promise.all([closing, ...gone, this.udp?.stop()]);
    this.connections.clear();
    this.refused.clear();
    this.perIp.clear();
    this.udp = undefined;
    this.server = undefined;
    this.state = 'stopped';
  }

  /** Stats of every online path. */
  paths(): RtspPathStats[] {
    return this.registry.stats();
  }

  /** Subscribes to a server event; returns the unsubscribe function. */
  on<K extends keyof RtspServerEvents>(type: K, fn: (data: RtspServerEvents[K]) => void): () => void {
    return this.events.on(type, fn);
  }

  /**
   * Publishes `path` from inside the process (e.g. an RTMP→RTSP bridge), replacing any current publisher. Throws
   * on programming errors: server not started, invalid path name, unusable SDP.
   */
  publish(path: string, sdp: string): PublisherHandle {
    if (this.state !== 'started') throw new Error(`RtspServer is ${this.state}; cannot publish ${path}`);
    if (!isValidPathName(path)) throw new Error(`invalid RTSP path name: ${JSON.stringify(path)}`);
    const parsed = parseSdp(sdp);
    if ('error' in parsed) throw new Error(`cannot publish ${path}: ${parsed.error}`);
    let closed = false;
    const source = { remote: 'internal', transport: 'internal' as const, kick: () => void (closed = true) };
    const stream = this.registry.publish(path, parsed, source);
    const registry = this.registry;
    return {
      get closed() {
        return closed || stream.isClosed;
      },
      writeRtp(track, packet) {
        if (closed || stream.isClosed) return false;
        stream.writeRtp(source, track, packet);
        return true;
      },
      writeRtcp(track, packet) {
        if (closed || stream.isClosed) return false;
        stream.writeRtcp(source, track, packet);
        return true;
      },
      close() {
        if (closed) return;
        closed = true;
        registry.unpublish(stream, source, 'publisher closed');
      },
    };
  }

  private authFailed(event: Omit<RtspServerEvents['auth-failed'], 'failures' | 'forbidden'>): void {
    if (event.reason === 'forbidden') this.totals.authForbidden++;
    else this.totals.authFailures++;
    const { authFailures: failures, authForbidden: forbidden } = this.totals;
    this.log.warn({ ...event, failures, forbidden }, 'RTSP authentication failed');
    this.events.emit('auth-failed', { ...event, failures, forbidden });
  }

  /**
   * One log line per REFUSAL_LOG_MS at most, with the count since the last one: an operator whose compressor hits
   * the per-address bound must see why, and a flood of connections must not become a flood of lines.
   */
  private noteRefusal(ip: string, limit: string): void {
    this.refusedSinceLog++;
    const now = Date.now();
    if (now - this.refusalLoggedAt < REFUSAL_LOG_MS) return;
    this.log.warn({ remote: ip, limit, refused: this.refusedSinceLog }, 'RTSP connections refused (503)');
    this.refusalLoggedAt = now;
    this.refusedSinceLog = 0;
  }

  private readerDropped(path: string, remote: string, reason: string): void {
    this.totals.readersDropped++;
    this.log.warn({ path, remote, reason }, 'RTSP reader dropped');
    this.events.emit('reader-dropped', { path, remote, reason });
  }

  private accept(socket: Socket): void {
    const ip = socket.remoteAddress ?? 'unknown';
    const count = this.perIp.get(ip) ?? 0;
    const full = this.connections.size >= this.limits.maxConnections;
    if (this.state !== 'started' || full || count >= this.limits.maxConnectionsPerIp) {
      this.totals.connectionsRejected++;
      const { maxConnections, maxConnectionsPerIp } = this.limits;
      if (this.state === 'started') {
        const why = full
          ? `maxConnections (${maxConnections}) reached`
          : `maxConnectionsPerIp (${maxConnectionsPerIp})`;
        this.noteRefusal(ip, why);
      }
      this.refused.add(socket);
      socket.on('error', () => undefined);
      socket.on('close', () => this.refused.delete(socket));
      // 503 then close, without reading: the client learns why, and we spend nothing more on it.
      socket.end(formatResponse({ status: 503 }, undefined), () => socket.destroy());
      return;
    }
    this.perIp.set(ip, count + 1);
    this.totals.connections++;
    const conn = new RtspConnection(socket, this.ctx);
    this.connections.add(conn);
    socket.once('close', () => {
      this.connections.delete(conn);
      const left = (this.perIp.get(ip) ?? 1) - 1;
      if (left > 0) this.perIp.set(ip, left);
      else this.perIp.delete(ip);
    });
    conn.start();
  }

  private sweep(): void {
    const now = Date.now();
    for (const conn of this.connections) conn.sweep(now);
  }
}
