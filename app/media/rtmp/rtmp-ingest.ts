/** RTMP ingest of the slave: cameras publish `live/<camera>?key=...`; built on node-media-server 4.4 (see README). */
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import type { Logger } from '../../log/logger.js';
import { RtmpConnection, STREAM_NAME, APP, type IngestContext } from './connection.js';
import { FlvTap } from './flv-tap.js';
import { InternalPublisher } from './internal-publisher.js';
import { BroadcastServer, Context, RtmpSession } from './nms.js';
import { redirectNmsLogger } from './nms-logger.js';
import { nmsPatched } from './nms-patches.js';
import type { NmsBroadcast, NmsContext } from './nms-types.js';
import {
  DEFAULT_RTMP_LIMITS,
  type RtmpIngestCounters,
  type RtmpIngestOptions,
  type RtmpLimits,
  type RtmpStreamInfo,
  type RtmpStreamStats,
  type TagListener,
} from './types.js';

// On NMS's Context object itself: whatever copy of this module runs, there is one NMS context per process.
const OWNER = Symbol.for('cupola.rtmp.context-owner');
type OwnedContext = NmsContext & { [OWNER]?: RtmpIngest };

type StreamListener = (stream: RtmpStreamInfo) => void;

function listenError(err: NodeJS.ErrnoException, host: string, port: number): Error {
  const where = `${host}:${port}`;
  const message =
    err.code === 'EADDRINUSE'
      ? `RTMP: port ${where} is already in use`
      : err.code === 'EACCES'
        ? `RTMP: no permission to listen on ${where}`
        : `RTMP: cannot listen on ${where}: ${err.message}`;
  return Object.assign(new Error(message, { cause: err }), { code: err.code });
}

/** See the file comment; constructed idle, `start()` binds, `stop()` releases everything. One per process. */
export class RtmpIngest {
  private readonly log: Logger;
  private readonly limits: RtmpLimits;
  private readonly totals: RtmpIngestCounters = {
    connections: 0,
    connectionsRejected: 0,
    published: 0,
    refused: 0,
    playsRefused: 0,
    playersDropped: 0,
    protocolErrors: 0,
    timedOut: 0,
  };
  private readonly connections = new Set<RtmpConnection>();
  /** Live publishers by camera name. */
  private readonly publishers = new Map<string, RtmpConnection>();
  private readonly taps = new Set<{ tap: FlvTap; broadcast: NmsBroadcast }>();
  private readonly internal = new Set<InternalPublisher>();
  private readonly publishListeners = new Set<StreamListener>();
  private readonly unpublishListeners = new Set<StreamListener>();
  private readonly ctx: IngestContext;
  private server: Server | undefined;
  private restoreLogger: (() => void) | undefined;
  private starting: Promise<void> | undefined;
  private stopping: Promise<void> | undefined;
  private state: 'new' | 'starting' | 'started' | 'stopping' | 'stopped' = 'new';

  constructor(private readonly options: RtmpIngestOptions) {
    this.log = options.log.child({ module: 'rtmp' });
    this.limits = { ...DEFAULT_RTMP_LIMITS, ...options.limits };
    this.ctx = {
      log: this.log,
      limits: this.limits,
      allowPlay: options.allowPlay === true,
      counters: this.totals,
      authorizePublish: options.authorizePublish,
      authorizePlay: options.authorizePlay,
      isPublished: (name) => this.publishers.has(name),
      published: (conn) => this.published(conn),
      closed: (conn) => this.closed(conn),
    };
  }

  /** The bound port (useful with port 0); 0 before start. */
  get port(): number {
    return (this.server?.address() as AddressInfo | null)?.port ?? 0;
  }

  /** Totals since start (a copy). */
  get counters(): RtmpIngestCounters {
    return { ...this.totals };
  }

  /** Binds the port; a taken port rejects with "RTMP: port host:port is already in use" (never process.exit). */
  async start(): Promise<void> {
    if (this.state !== 'new') throw new Error(`RtmpIngest is ${this.state}; it can be started once`);
    if (!nmsPatched()) throw new Error('RtmpIngest: the node-media-server patches are not installed');
    const ctx = Context as OwnedContext;
    const owner = ctx[OWNER];
    if (owner && owner !== this) {
      throw new Error('RTMP: another RtmpIngest runs in this process (node-media-server has one global context)');
    }
    ctx[OWNER] = this;
    this.state = 'starting';
    // NMS reads auth settings from here (broadcast_server.js postPlay/postPublish); ours come first, so none.
    Context.config = {};
    this.starting = this.listen();
    await this.starting;
  }

  /** Closes the listener, every connection and tap; resolves once every socket is closed. Idempotent. */
  stop(): Promise<void> {
    if (this.state === 'new' || this.state === 'stopped') {
      this.state = 'stopped';
      return Promise.resolve();
    }
    this.stopping ??= (async () => {
      await this.starting?.catch(() => undefined);
      if (this.state === 'started') await this.shutdown();
      this.state = 'stopped';
    })();
    return this.stopping;
  }

  /** Calls `fn` when a publish is accepted; returns the unsubscribe function. */
  onPublish(fn: StreamListener): () => void {
    this.publishListeners.add(fn);
    return () => this.publishListeners.delete(fn);
  }

  /** Calls `fn` when an accepted publisher's connection closes; returns the unsubscribe function. */
  onUnpublish(fn: StreamListener): () => void {
    this.unpublishListeners.add(fn);
    return () => this.unpublishListeners.delete(fn);
  }

  /**
   * Delivers the FLV tags of `live/<streamName>` to `fn` (format: README "The media tap") until the returned
   * function is called or the ingest stops. Works before the camera publishes and across its reconnects. When the
   * stream is live, the cached onMetaData, audio config, video sequence header and current GOP are delivered
   * synchronously, before onTag returns.
   */
  onTag(streamName: string, fn: TagListener): () => void {
    if (this.state !== 'started') throw new Error(`RtmpIngest.onTag: the ingest is ${this.state}`);
    if (!STREAM_NAME.test(streamName)) throw new Error('RtmpIngest.onTag: invalid stream name');
    const path = `/${APP}/${streamName}`;
    let broadcast = Context.broadcasts.get(path);
    if (!broadcast) {
      // What RtmpSession.onConnect does (rtmp_session.js:67): the publisher will find and feed this one.
      broadcast = new BroadcastServer(path);
      broadcast.publishGraceMs = 0;
      Context.broadcasts.set(path, broadcast);
    }
    const tap = new FlvTap(fn, (what, err) => this.log.warn({ stream: streamName, err }, `RTMP ${what}`));
    const entry = { tap, broadcast };
    this.taps.add(entry);
    broadcast.postPlay(tap);
    return () => {
      if (this.taps.delete(entry)) entry.broadcast.donePlay(tap);
    };
  }

  /**
   * Publishes `<app>/<name>` from inside the process (the master's relays; see internal-publisher.ts). Throws when
   * the names are invalid, the ingest is not running, or the path has a publisher. close() the result to end it;
   * stop() ends any left.
   */
  publishInternal(app: string, name: string): InternalPublisher {
    if (this.state !== 'started') throw new Error(`RtmpIngest.publishInternal: the ingest is ${this.state}`);
    if (!STREAM_NAME.test(app) || !STREAM_NAME.test(name)) throw new Error('RtmpIngest.publishInternal: invalid name');
    const publisher = new InternalPublisher(`/${app}/${name}`);
    this.internal.add(publisher);
    const close = publisher.close.bind(publisher);
    publisher.close = () => {
      this.internal.delete(publisher);
      close();
    };
    return publisher;
  }

  /** A snapshot of every published stream. */
  streams(): RtmpStreamStats[] {
    return [...this.publishers.values()].flatMap((conn) => {
      const s = this.snapshot(conn);
      return s ? [s] : [];
    });
  }

  /** A snapshot of one published stream, if it is published. */
  stream(name: string): RtmpStreamStats | undefined {
    const conn = this.publishers.get(name);
    return conn && this.snapshot(conn);
  }

  private snapshot(conn: RtmpConnection): RtmpStreamStats | undefined {
    const { session, stats } = conn;
    if (!stats) return undefined;
    let players = 0;
    for (const sub of session.broadcast.subscribers.values()) if (sub.ip !== '') players++;
    const { inBytes, videoWidth, videoHeight } = session;
    return stats.snapshot({ inBytes, videoWidth, videoHeight, players });
  }

  private async listen(): Promise<void> {
    const host = this.options.host ?? '0.0.0.0';
    const server = createServer({ noDelay: true }, (socket) => this.accept(socket));
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(this.options.port, host, () => {
          server.off('error', reject);
          resolve();
        });
      });
    } catch (err) {
      delete (Context as OwnedContext)[OWNER];
      this.state = 'new';
      throw listenError(err as NodeJS.ErrnoException, host, this.options.port);
    }
    server.on('error', (err) => this.log.error({ err }, 'RTMP listener error'));
    this.server = server;
    this.restoreLogger = redirectNmsLogger(this.log);
    this.state = 'started';
    this.log.info({ host, port: this.port, allowPlay: this.ctx.allowPlay }, 'RTMP ingest listening');
  }

  private accept(socket: Socket): void {
    if (this.state !== 'started') return void socket.destroy();
    if (this.connections.size >= this.limits.maxConnections) {
      this.totals.connectionsRejected++;
      return void socket.destroy();
    }
    this.totals.connections++;
    // Instead of NMS's NodeRtmpServer.handleRequest (rtmp_server.js:80-88), minus Context.sessions (only NMS's
    // HTTP API reads it), plus our per-connection policy.
    const conn = new RtmpConnection(new RtmpSession(socket), this.ctx);
    this.connections.add(conn);
    conn.start();
  }

  private published(conn: RtmpConnection): void {
    const info = conn.info!;
    this.publishers.set(info.name, conn);
    this.log.info({ stream: info.name, remote: info.remote, id: info.id }, 'RTMP publish');
    this.emit(this.publishListeners, info, 'onPublish');
  }

  private closed(conn: RtmpConnection): void {
    this.connections.delete(conn);
    const info = conn.info;
    if (conn.role !== 'publisher' || !info || this.publishers.get(info.name) !== conn) return;
    this.publishers.delete(info.name);
    const s = this.snapshot(conn);
    this.log.info(
      { stream: info.name, remote: info.remote, bytesIn: s?.bytesIn, uptimeMs: s?.uptimeMs },
      'RTMP unpublish',
    );
    this.emit(this.unpublishListeners, info, 'onUnpublish');
  }

  private emit(listeners: Set<StreamListener>, info: RtmpStreamInfo, what: string): void {
    for (const fn of listeners) {
      try {
        fn({ ...info });
      } catch (err) {
        this.log.warn({ err, stream: info.name }, `RTMP ${what} listener threw`);
      }
    }
  }

  private async shutdown(): Promise<void> {
    this.state = 'stopping';
    const server = this.server!;
    const listenerClosed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const { tap, broadcast } of this.taps) broadcast.donePlay(tap);
    this.taps.clear();
    for (const publisher of [...this.internal]) publisher.close();
    for (const conn of this.connections) conn.destroy();
    await Promise.all([...this.connections].map((c) => c.closed));
    await listenerClosed;
    // Closed publishers end their NMS publish on a 0 ms timer (publishGraceMs = 0); let those run, then drop what
    // is left of the process-wide NMS state so that a later ingest starts clean.
    await new Promise((resolve) => setTimeout(resolve, 5));
    Context.broadcasts.clear();
    Context.sessions.clear();
    this.restoreLogger?.();
    delete (Context as OwnedContext)[OWNER];
    this.log.info('RTMP ingest stopped');
  }
}
