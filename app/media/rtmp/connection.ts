/**
 * One RTMP connection: an NMS RtmpSession whose handlers are replaced per instance (they are arrow-function own
 * properties, wired to the socket by `run()`) so that our policy runs before NMS sees a publish or a play, a player
 * cannot queue unbounded data, only the accepted publisher feeds its broadcast, and idle or stalled peers go away.
 */
import type { Logger } from '../../log/logger.js';
import { originals, protocolError } from './nms-patches.js';
import type { NmsInvokeMessage, NmsRtmpSession } from './nms-types.js';
import { StreamStats } from './stream-stats.js';
import type { AuthorizePlay, AuthorizePublish, RtmpIngestCounters, RtmpLimits, RtmpStreamInfo } from './types.js';

/** Stream names (camera ids) accepted; NMS's own pattern, bounded. */
export const STREAM_NAME = /^[A-Za-z0-9_-]{1,64}$/;
/** The only RTMP application. */
export const APP = 'live';

/** What a connection needs from the ingest. */
export interface IngestContext {
  readonly log: Logger;
  readonly limits: RtmpLimits;
  readonly allowPlay: boolean;
  /** Mutable totals. */
  readonly counters: RtmpIngestCounters;
  readonly authorizePublish: AuthorizePublish;
  readonly authorizePlay: AuthorizePlay | undefined;
  /** True while another connection publishes `name`. */
  isPublished(name: string): boolean;
  /** NMS accepted the publish of `conn`. */
  published(conn: RtmpConnection): void;
  /** The socket of `conn` is closed. */
  closed(conn: RtmpConnection): void;
}

/** Splits `name?query`; null when not a string or absurdly long. The first value of a repeated key wins. */
export function parseStreamName(raw: unknown): { name: string; query: Record<string, string> } | null {
  if (typeof raw !== 'string' || raw.length > 2048) return null;
  const q = raw.indexOf('?');
  const query: Record<string, string> = {};
  if (q >= 0) for (const [k, v] of new URLSearchParams(raw.slice(q + 1))) if (!(k in query)) query[k] = v;
  return { name: q >= 0 ? raw.slice(0, q) : raw, query };
}

/** A name fit for a log line (peer input: only when it is a valid stream name). */
function loggable(name: unknown): string | undefined {
  return typeof name === 'string' && STREAM_NAME.test(name) ? name : undefined;
}

/** See the file comment. */
export class RtmpConnection {
  role: 'pending' | 'publisher' | 'player' = 'pending';
  /** Set once publishing. */
  info: RtmpStreamInfo | undefined;
  stats: StreamStats | undefined;
  /** Resolves when the socket is closed. */
  readonly closed: Promise<void>;
  private markClosed!: () => void;
  private closing = false;
  private setupTimer: NodeJS.Timeout | undefined;
  private graceTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly session: NmsRtmpSession,
    private readonly ctx: IngestContext,
  ) {
    this.closed = new Promise((resolve) => (this.markClosed = resolve));
  }

  /** `address:port` of the peer. */
  get remote(): string {
    return this.session.ip;
  }

  /** Installs the overrides and hands the socket to NMS. */
  start(): void {
    const { session, ctx } = this;
    const { socket, rtmp } = session;
    // rtmp.js:258 gives every connection a 1 MB FLV parser buffer it never uses; let it go (V8 counts it).
    (rtmp as { flv?: unknown }).flv = undefined;
    rtmp.onPublish = (msg) => this.onPublishCommand(msg);
    rtmp.onPlay = (msg) => this.onPlayCommand(msg);
    const nmsOnData = session.onData;
    session.onData = (data) => {
      if (this.closing) return; // a refused or broken peer's further bytes are not parsed
      nmsOnData(data);
      const err = protocolError(rtmp);
      if (err !== undefined) this.fail(err);
      // NMS answers commands with unbounded writes too: a peer that sends them without reading is cut off
      // (players are bounded by sendBuffer below).
      else if (this.role !== 'player' && socket.writableLength > ctx.limits.playerBufferBytes) {
        this.fail('peer does not read its answers');
      }
    };
    const nmsOnPacket = session.onPacket;
    session.onPacket = (packet) => {
      // NMS broadcasts media from any session of the path, players and refused publishers included.
      if (this.role !== 'publisher') return;
      this.stats?.onPacket(packet, session.inBytes);
      nmsOnPacket(packet);
    };
    const nmsSend = session.sendBuffer;
    session.sendBuffer = (buffer) => {
      if (this.closing) return;
      // NMS writes to every player without looking at backpressure (rtmp_session.js:146): bound it here.
      if (socket.writableLength > ctx.limits.playerBufferBytes) return this.dropSlowPlayer(socket.writableLength);
      nmsSend(buffer);
    };
    session.run();
    socket.setTimeout(ctx.limits.idleTimeoutMs, () => this.timeout('idle'));
    this.setupTimer = setTimeout(() => this.timeout('setup'), ctx.limits.setupTimeoutMs);
    socket.once('close', () => {
      clearTimeout(this.setupTimer);
      clearTimeout(this.graceTimer);
      this.closing = true;
      ctx.closed(this);
      this.markClosed();
    });
  }

  /** Closes at once (stop, timeouts, slow players). */
  destroy(): void {
    this.closing = true;
    this.session.socket.destroy();
  }

  /** Ends politely (our status message still reaches the peer), destroys after closeGraceMs. */
  close(): void {
    if (this.closing) return;
    this.closing = true;
    clearTimeout(this.setupTimer);
    this.session.socket.end();
    this.graceTimer = setTimeout(() => this.session.socket.destroy(), this.ctx.limits.closeGraceMs);
  }

  private onPublishCommand(msg: NmsInvokeMessage): void {
    if (this.closing) return; // more commands parsed from the same TCP segment as a refused one
    const { ctx, session } = this;
    const rtmp = session.rtmp;
    const parsed = parseStreamName(msg.streamName);
    const app = rtmp.streamApp;
    let reason: string | undefined;
    if (this.role !== 'pending') reason = 'one stream per connection';
    else if (app !== APP) reason = 'unknown app';
    else if (!parsed || !STREAM_NAME.test(parsed.name)) reason = 'invalid stream name';
    else if (!this.authorize(parsed.name, parsed.query)) reason = 'not authorized';
    else if (ctx.isPublished(parsed.name)) reason = 'already published';
    if (reason !== undefined || !parsed) {
      ctx.counters.refused++;
      // Never the query: it carries the key.
      ctx.log.info(
        { app: loggable(app), name: loggable(parsed?.name), remote: this.remote, reason },
        'RTMP publish refused',
      );
      rtmp.sendStatusMessage(
        rtmp.parserPacket.header.stream_id,
        'error',
        'NetStream.Publish.BadName',
        `refused: ${reason}`,
      );
      return this.close();
    }
    // NMS answers Publish.Start, resolves the broadcast (session.onConnect) and registers the publisher (onPush).
    originals.onPublish.call(rtmp, msg);
    if (!session.isPublisher) return this.close();
    // Without this a publish outlives its socket by 30 s (broadcast_server.js:18) and a late tap would get the
    // dead publish's headers and GOP; a reconnect is a new publish for us.
    session.broadcast.publishGraceMs = 0;
    clearTimeout(this.setupTimer);
    this.role = 'publisher';
    this.info = { app: APP, name: parsed.name, id: session.id, remote: this.remote };
    this.stats = new StreamStats(this.info, ctx.limits.rateWindowMs);
    ctx.counters.published++;
    ctx.published(this);
  }

  private authorize(name: string, query: Record<string, string>): boolean {
    try {
      return this.ctx.authorizePublish({ app: APP, name, query, remote: this.remote }) === true;
    } catch (err) {
      this.ctx.log.warn({ err, name }, 'RTMP authorizePublish threw; refusing');
      return false;
    }
  }

  private playAllowed(authorize: AuthorizePlay, app: string, parsed: { name: string; query: Record<string, string> }) {
    try {
      return authorize({ app, name: parsed.name, query: parsed.query, remote: this.remote }) === true;
    } catch (err) {
      this.ctx.log.warn({ err, name: parsed.name }, 'RTMP authorizePlay threw; refusing');
      return false;
    }
  }

  private onPlayCommand(msg: NmsInvokeMessage): void {
    if (this.closing) return;
    const { ctx, session } = this;
    const rtmp = session.rtmp;
    const parsed = parseStreamName(msg.streamName);
    const app = rtmp.streamApp;
    // With a play policy, any valid app name is a place to ask about (the master's sites); else only `live`.
    const appOk = ctx.authorizePlay ? typeof app === 'string' && STREAM_NAME.test(app) : app === APP;
    let reason: string | undefined;
    if (!ctx.allowPlay && !ctx.authorizePlay) reason = 'play disabled';
    else if (this.role !== 'pending') reason = 'one stream per connection';
    else if (!appOk) reason = 'unknown app';
    else if (!parsed || !STREAM_NAME.test(parsed.name)) reason = 'invalid stream name';
    else if (ctx.authorizePlay && !this.playAllowed(ctx.authorizePlay, app as string, parsed)) {
      reason = 'not authorized';
    }
    if (reason !== undefined) {
      ctx.counters.playsRefused++;
      ctx.log.info({ name: loggable(parsed?.name), remote: this.remote, reason }, 'RTMP play refused');
      rtmp.sendStatusMessage(
        rtmp.parserPacket.header.stream_id,
        'error',
        'NetStream.Play.Failed',
        `refused: ${reason}`,
      );
      return this.close();
    }
    clearTimeout(this.setupTimer);
    this.role = 'player';
    // NMS subscribes and replays its caches through our bounded sendBuffer.
    originals.onPlay.call(rtmp, msg);
    if (!this.closing) ctx.log.debug({ name: loggable(parsed?.name), remote: this.remote }, 'RTMP play');
  }

  private fail(reason: string): void {
    this.ctx.counters.protocolErrors++;
    this.ctx.log.warn({ remote: this.remote, reason }, 'RTMP protocol error; closing the connection');
    this.close();
  }

  private timeout(kind: 'setup' | 'idle'): void {
    if (this.closing || (kind === 'setup' && this.role !== 'pending')) return;
    this.ctx.counters.timedOut++;
    this.ctx.log.debug({ remote: this.remote, role: this.role, kind }, 'RTMP connection timed out');
    this.destroy();
  }

  private dropSlowPlayer(queued: number): void {
    this.ctx.counters.playersDropped++;
    this.ctx.log.warn(
      { remote: this.remote, stream: this.session.streamPath, queued },
      'RTMP player too slow; dropped',
    );
    this.destroy();
  }
}
