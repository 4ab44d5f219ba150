/**
 * One pull of a camera, from connect to the end: OPTIONS, DESCRIBE, SETUP of each track over TCP interleaved, PLAY,
 * then RTP and RTCP forwarded to the target until the connection ends, the camera stalls, or abort() is called.
 */
import type { Logger } from '../../log/logger.js';
import { parseSdp } from '../rtsp/sdp.js';
import { chooseTransport } from '../rtsp/transport-header.js';
import type { ClientCredentials } from './client-auth.js';
import { ClientConnection } from './client-connection.js';
import { aggregateUrl, baseUrl, publishSdp, resolveControl, usableInRequest } from './control-urls.js';
import type { RtspReply } from './response-parser.js';

/** Where a pulled stream goes (the F1 RTSP server's in-process publisher API). */
export interface PullTarget {
  publish(path: string, sdp: string): PulledStream;
}

/** The part of a PublisherHandle a puller uses. */
export interface PulledStream {
  writeRtp(track: number, packet: Buffer): boolean;
  writeRtcp(track: number, packet: Buffer): boolean;
  close(): void;
}

/** Options of one session; see RtspPuller for the defaults. */
export interface PullSessionOptions {
  /** rtsp:// URL without credentials. */
  url: string;
  credentials: ClientCredentials | null;
  path: string;
  target: PullTarget;
  log: Logger;
  requestTimeoutMs: number;
  stallMs: number;
  /** Keepalive period; default half the session timeout the camera announces (60 s when it says nothing). */
  keepaliveMs?: number;
  /** Totals shared with the puller. */
  counters: { bytesIn: number; packetsIn: number };
  /** Called once, when PLAY succeeded and the path is published. */
  onPlaying(): void;
}

/** Frames kept between the PLAY request and its answer (cameras may start sending before they answer). */
const MAX_EARLY_FRAMES = 512;

/** See the file comment. */
export class PullSession {
  private conn: ClientConnection | null = null;
  private readonly routes = new Map<number, { track: number; rtcp: boolean }>();
  private stream: PulledStream | null = null;
  private early: Array<[number, Buffer]> | null = null;
  private readonly timers: NodeJS.Timeout[] = [];
  private lastRtpAt = 0;
  private playUrl = '';
  private keepaliveMethod: 'GET_PARAMETER' | 'OPTIONS' = 'GET_PARAMETER';
  private timeoutS = 60;
  private aborted: string | null = null;

  constructor(private readonly opts: PullSessionOptions) {}

  /** Runs the session; resolves with the reason it ended once its socket is closed. Never rejects. */
  async run(): Promise<string> {
    let url: URL;
    try {
      url = new URL(this.opts.url);
    } catch {
      return 'invalid camera URL';
    }
    if (url.protocol !== 'rtsp:') return `${url.protocol}// cameras are not supported (only rtsp://)`;
    if (this.aborted !== null) return this.aborted;
    const conn = new ClientConnection({
      host: url.hostname.replace(/^\[|\]$/g, ''),
      port: url.port ? Number(url.port) : 554,
      credentials: this.opts.credentials,
      requestTimeoutMs: this.opts.requestTimeoutMs,
      onFrame: (channel, payload) => this.onFrame(channel, payload),
    });
    this.conn = conn;
    try {
      await conn.open();
      await this.handshake(conn, url.href);
    } catch (err) {
      this.end((err as Error).message);
    }
    await conn.closed;
    this.end(conn.endReason ?? 'session ended');
    return conn.endReason ?? 'session ended';
  }

  /** Ends the session (TEARDOWN, close); run() resolves once the socket is gone. */
  abort(reason: string): void {
    this.aborted ??= reason;
    this.end(reason);
  }

  private async handshake(conn: ClientConnection, url: string): Promise<void> {
    const options = await conn.send('OPTIONS', url);
    // Some cameras answer OPTIONS oddly and still stream: only DESCRIBE decides.
    const methods = options.status === 200 ? options.headers.get('public') : undefined;
    if (methods !== undefined && !/\bGET_PARAMETER\b/i.test(methods)) this.keepaliveMethod = 'OPTIONS';
    const described = await conn.send('DESCRIBE', url, { Accept: 'application/sdp' });
    if (described.status !== 200) throw new Error(`DESCRIBE answered ${statusText(described)}`);
    const sdp = parseSdp(described.body.toString('utf8'));
    if ('error' in sdp) throw new Error(`the camera's SDP is unusable: ${sdp.error}`);
    const base = baseUrl(described.headers, url);
    const chosen: number[] = [];
    let firstFailure = '';
    for (const media of sdp.media) {
      const failure = await this.setup(conn, resolveControl(base, media.control), media.index, chosen.length);
      if (failure === null) chosen.push(media.index);
      else {
        firstFailure ||= failure;
        this.opts.log.warn({ track: media.index, codec: media.codec, failure }, 'camera track not set up; skipped');
      }
    }
    if (chosen.length === 0) throw new Error(firstFailure);
    this.playUrl = aggregateUrl(sdp, base);
    if (!usableInRequest(this.playUrl)) throw new Error('the camera gave an unusable control URL');
    this.early = [];
    const played = await conn.send('PLAY', this.playUrl, { Range: 'npt=0.000-' });
    if (played.status !== 200) throw new Error(`PLAY answered ${statusText(played)}`);
    if (conn.endReason !== null) throw new Error(conn.endReason);
    // Throws on an SDP the server cannot take: the session ends with that reason.
    this.stream = this.opts.target.publish(this.opts.path, publishSdp(sdp, chosen));
    const early = this.early;
    this.early = null;
    for (const [channel, payload] of early) this.onFrame(channel, payload);
    this.lastRtpAt = Date.now();
    this.opts.onPlaying();
    const stallMs = this.opts.stallMs;
    this.every(Math.max(50, Math.min(1000, stallMs / 4)), () => {
      if (Date.now() - this.lastRtpAt > stallMs) this.end(`no RTP from the camera for ${stallMs / 1000} s`);
    });
    this.every(this.opts.keepaliveMs ?? (this.timeoutS * 1000) / 2, () => this.keepalive(conn));
  }

  /** SETUP of one track as published track `track`; null when done, else why not. */
  private async setup(conn: ClientConnection, uri: string, index: number, track: number): Promise<string | null> {
    if (!usableInRequest(uri)) return `track ${index}: unusable control URL`;
    const wanted: [number, number] = [track * 2, track * 2 + 1];
    const reply = await conn.send('SETUP', uri, { Transport: `RTP/AVP/TCP;unicast;interleaved=${wanted.join('-')}` });
    if (reply.status !== 200) {
      const hint = reply.status === 461 ? ' (the camera may not offer RTP over TCP)' : '';
      return `SETUP of track ${index} answered ${statusText(reply)}${hint}`;
    }
    const [id, ...params] = (reply.headers.get('session') ?? '').split(';').map((s) => s.trim());
    if (!id) return `SETUP of track ${index}: the answer has no Session`;
    if (conn.session === null) {
      conn.session = id;
      const timeout = params.map((p) => /^timeout=(\d{1,6})$/i.exec(p)?.[1]).find((v) => v !== undefined);
      if (timeout !== undefined && Number(timeout) > 0) this.timeoutS = Number(timeout);
    }
    const spec = chooseTransport(reply.headers.get('transport'), false);
    const [rtp, rtcp] = spec?.kind === 'tcp' && spec.interleaved ? spec.interleaved : wanted;
    if (this.routes.has(rtp) || this.routes.has(rtcp)) return `SETUP of track ${index}: channels already in use`;
    this.routes.set(rtp, { track, rtcp: false });
    this.routes.set(rtcp, { track, rtcp: true });
    return null;
  }

  private onFrame(channel: number, payload: Buffer): void {
    const route = this.routes.get(channel);
    if (!route) return;
    if (!this.stream) {
      if (this.early && this.early.length < MAX_EARLY_FRAMES) this.early.push([channel, payload]);
      return;
    }
    if (route.rtcp) {
      this.stream.writeRtcp(route.track, payload);
      return;
    }
    this.lastRtpAt = Date.now();
    this.opts.counters.bytesIn += payload.length;
    this.opts.counters.packetsIn++;
    this.stream.writeRtp(route.track, payload);
  }

  private keepalive(conn: ClientConnection): void {
    const method = this.keepaliveMethod;
    conn.request(method, this.playUrl).then(
      (reply) => {
        if (method === 'GET_PARAMETER' && (reply.status === 405 || reply.status === 501)) {
          this.keepaliveMethod = 'OPTIONS';
        }
      },
      // An unanswered keepalive is not fatal by itself: the stall check decides whether the camera is gone.
      () => undefined,
    );
  }

  private every(ms: number, fn: () => void): void {
    this.timers.push(setInterval(fn, Math.max(50, ms)));
  }

  private end(reason: string): void {
    for (const timer of this.timers.splice(0)) clearInterval(timer);
    this.early = null;
    this.stream?.close();
    this.stream = null;
    const conn = this.conn;
    if (conn && conn.endReason === null) conn.end(reason, conn.teardown(this.playUrl || this.opts.url));
  }
}

function statusText(reply: RtspReply): string {
  return `${reply.status}${reply.reason ? ` ${reply.reason.slice(0, 100)}` : ''}`;
}
