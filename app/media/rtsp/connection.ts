/**
 * One client TCP connection: parses what it sends, answers requests one at a time (in order, even when authorize
 * is slow), routes interleaved RTP of a publisher, and enforces the per-connection timeouts.
 */
import type { Socket } from 'node:net';
import type { Logger } from '../../log/logger.js';
import type { RtspServerCounters } from '../../defs/rtsp.js';
import type { NonceIssuer } from './auth.js';
import { handleRequest } from './handlers.js';
import type { PathRegistry } from './path-registry.js';
import { RtspParser, type ParsedItem, type RtspRequest } from './request-parser.js';
import { formatResponse, type RtspResponse } from './response.js';
import type { SessionDescription } from './sdp.js';
import type { RtspSession } from './session.js';
import type { PathSource } from './stream-path.js';
import type { UdpPair } from './udp-pair.js';
import type { Authorize, RtspLimits, RtspServerEvents } from './types.js';

/** What a connection needs from its server. */
export interface ServerContext {
  readonly log: Logger;
  readonly limits: RtspLimits;
  readonly registry: PathRegistry;
  readonly udp: UdpPair | undefined;
  readonly nonces: NonceIssuer;
  readonly authorize: Authorize;
  readonly counters: RtspServerCounters;
  authFailed(event: Omit<RtspServerEvents['auth-failed'], 'failures' | 'forbidden'>): void;
  readerDropped(path: string, remote: string, reason: string): void;
}

/** What a handler returns: the response, and what to do once it is on the wire. */
export interface HandlerResult {
  response: RtspResponse;
  /** Runs right after the response is written (e.g. start sending RTP: no frame may precede the PLAY answer). */
  after?: () => void;
}

/** How long a closing connection may keep draining before it is destroyed. */
const LINGER_MS = 1000;

/** See the file comment. */
export class RtspConnection implements PathSource {
  readonly remote: string;
  readonly ip: string;
  session: RtspSession | undefined;
  announced: { path: string; sdp: SessionDescription } | undefined;
  /** `action path` pairs already authorized on this connection: the policy is asked once, not per request. */
  readonly authorized = new Set<string>();
  private readonly parser: RtspParser;
  private readonly queue: ParsedItem[] = [];
  private busy = false;
  private closed = false;
  private closingSince = 0;
  private lastRequestAt = Date.now();
  private partialSince = 0;

  constructor(
    readonly socket: Socket,
    readonly ctx: ServerContext,
  ) {
    this.ip = socket.remoteAddress ?? 'unknown';
    this.remote = `${this.ip}:${socket.remotePort ?? 0}`;
    this.parser = new RtspParser(ctx.limits);
  }

  /** Starts reading. */
  start(): void {
    this.socket.setNoDelay(true);
    this.socket.setKeepAlive(true, 30_000);
    this.socket.on('data', (chunk: Buffer) => this.onData(chunk));
    this.socket.on('end', () => this.destroy('client closed the connection'));
    this.socket.on('error', (err) => this.destroy(`socket error: ${err.message}`));
    this.socket.on('close', () => this.destroy('connection closed'));
  }

  /** PathSource: how this client's RTP arrives (its session's transport). */
  get transport(): 'tcp' | 'udp' {
    return this.session?.transport ?? 'tcp';
  }

  /** True once the connection is closing or closed. */
  get isClosed(): boolean {
    return this.closed;
  }

  /** PathSource: another publisher took the path over. */
  kick(reason: string): void {
    this.finish(reason);
  }

  /** Applies the timeouts; called by the server's sweeper. */
  sweep(now: number): void {
    const { limits } = this.ctx;
    if (this.closed) {
      if (this.closingSince && now - this.closingSince > LINGER_MS) this.socket.destroy();
      return;
    }
    if (this.partialSince && now - this.partialSince > limits.partialRequestTimeoutMs) {
      return this.finish('incomplete request timed out', { status: 408 });
    }
    const s = this.session;
    if (!s) {
      if (!this.busy && now - this.lastRequestAt > limits.requestTimeoutMs) {
        this.finish('no request within timeout', this.parser.hasPartial ? { status: 408 } : undefined);
      }
      return;
    }
    s.sink?.checkStall?.(now);
    // A TCP reader is watched by its send buffer instead: players need not send anything while they play.
    const watched = s.transport === 'udp' || s.state !== 'playing';
    if (watched && now - s.lastActivity > limits.sessionTimeoutMs) {
      this.ctx.counters.sessionsTimedOut++;
      this.finish(`session timed out after ${now - s.lastActivity} ms`);
    }
  }

  /** Ends the session (reader leaves its path, publisher takes its path offline). */
  endSession(reason: string): void {
    const s = this.session;
    if (!s) return;
    this.session = undefined;
    for (const undo of s.cleanups.splice(0)) undo();
    if (s.sink) s.streamPath?.removeReader(s.sink);
    if (s.mode === 'record' && s.state === 'recording' && s.streamPath) {
      this.ctx.registry.unpublish(s.streamPath, this, reason);
    }
  }

  /** Closes gracefully: optional last response, FIN, then a short linger to let it reach the client. */
  finish(reason: string, response?: RtspResponse, cseq?: string): void {
    if (this.closed) return;
    this.closed = true;
    this.closingSince = Date.now();
    this.ctx.log.debug({ remote: this.remote, reason }, 'closing RTSP connection');
    this.endSession(reason);
    this.queue.length = 0;
    // Keep reading and discarding: closing with unread input makes the kernel send RST, losing our answer.
    this.socket.resume();
    if (this.socket.destroyed) return;
    if (response) this.socket.end(formatResponse(response, cseq));
    else this.socket.end();
  }

  /** Closes at once (dropped reader, socket error, server stop). */
  destroy(reason: string): void {
    if (!this.closed) {
      this.closed = true;
      this.ctx.log.debug({ remote: this.remote, reason }, 'RTSP connection closed');
      this.endSession(reason);
    }
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    if (this.closed) return;
    const items = this.parser.push(chunk);
    if (items.length > 0 || !this.parser.hasPartial) this.partialSince = this.parser.hasPartial ? Date.now() : 0;
    for (const item of items) this.queue.push(item);
    this.drain();
  }

  private drain(): void {
    while (!this.busy && !this.closed && this.queue.length > 0) {
      const item = this.queue.shift()!;
      if (item.kind === 'frame') this.onFrame(item.channel, item.payload);
      else if (item.kind === 'error') {
        this.ctx.counters.badRequests++;
        this.ctx.log.debug({ remote: this.remote, reason: item.reason }, 'malformed RTSP input');
        this.finish(item.reason, { status: item.status }, item.cseq);
      } else if (item.kind === 'request') {
        this.busy = true;
        this.socket.pause();
        void this.process(item.request).finally(() => {
          this.busy = false;
          if (this.closed) return;
          this.socket.resume();
          this.drain();
        });
      }
      // Responses (to requests we never send) are framed by the parser and dropped here.
    }
  }

  private async process(req: RtspRequest): Promise<void> {
    this.lastRequestAt = Date.now();
    const cseq = req.headers.get('cseq');
    let result: HandlerResult;
    try {
      result = await handleRequest(this, req);
    } catch (err) {
      this.ctx.log.warn(
        { remote: this.remote, method: req.method, err: (err as Error).message },
        'RTSP request failed',
      );
      result = { response: { status: 500 } };
    }
    if (this.closed) return;
    this.lastRequestAt = Date.now();
    this.socket.write(formatResponse(result.response, cseq));
    result.after?.();
  }

  private onFrame(channel: number, payload: Buffer): void {
    const s = this.session;
    if (!s) return;
    s.touch();
    const route = s.channels.get(channel);
    const path = s.streamPath;
    if (!route || s.state !== 'recording' || !path) return;
    if (route.rtcp) path.writeRtcp(this, route.track, payload);
    else path.writeRtp(this, route.track, payload);
  }
}
