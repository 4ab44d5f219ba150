/** Public types of the RTSP server: options, limits, the authorize callback, events and the in-process publisher. */
import type { Logger } from '../../log/logger.js';
import type { RtspTransport } from '../../defs/rtsp.js';

/** What a client asks to do on a path. */
export type RtspAction = 'read' | 'publish';

/** The caller's verdict: `unauthorized` → 401 and a new challenge, `forbidden` → 403 (valid user without the right). */
export type AuthResult = 'ok' | 'unauthorized' | 'forbidden';

/** One authorization question, asked once per connection, path and action (never per packet). */
export interface AuthorizeRequest {
  path: string;
  action: RtspAction;
  /** `ip:port` of the client. */
  remote: string;
  /** Absent when the client sent no credentials. */
  user?: string;
  /** Only for Basic: Digest never reveals the password. */
  password?: string;
  /** Which scheme the client used; absent without credentials. */
  scheme?: 'basic' | 'digest';
  /**
   * True when `secret` is the user's password. Works for both schemes (for Digest it recomputes the response), so
   * the caller needs the plaintext password (or keeps its own per-scheme logic with `password`).
   */
  checkPassword(secret: string): boolean;
  /** True when the credentials match a stored HA1 = MD5(user:cupola:password), for servers that keep no password. */
  checkHa1(ha1: string): boolean;
}

/** The caller's policy; rejections and timeouts count as failures, not crashes. */
export type Authorize = (req: AuthorizeRequest) => Promise<AuthResult> | AuthResult;

/** Protective bounds; every field has a default (see DEFAULT_LIMITS). */
export interface RtspLimits {
  maxConnections: number;
  maxConnectionsPerIp: number;
  /** Bytes of a request line plus headers before 400 + close. */
  maxHeaderBytes: number;
  /** Content-Length above this → 413 + close. */
  maxBodyBytes: number;
  /** A connection without a playing/recording session must complete a request this often. */
  requestTimeoutMs: number;
  /** A half-received request older than this closes the connection (slow-loris). */
  partialRequestTimeoutMs: number;
  /** Idle UDP sessions, silent TCP publishers and sessions never started are reaped after this. */
  sessionTimeoutMs: number;
  /** A TCP reader whose unsent bytes exceed this is dropped. */
  readerBufferBytes: number;
  /** A TCP reader whose kernel buffer has not accepted a byte for this long (while data is queued) is dropped. */
  readerStallMs: number;
  /** Bytes queued on the shared UDP socket above which RTP to UDP readers is dropped (not queued). */
  udpSendQueueBytes: number;
  authorizeTimeoutMs: number;
  /** Lifetime of a Digest nonce; an expired one gets `stale=true`. */
  nonceTtlMs: number;
  /**
   * How long a path whose publisher left keeps its readers for the publisher (a restarting camera or compressor) to
   * come back with a compatible stream. 0 closes readers at once.
   */
  publisherGraceMs: number;
}

/** Defaults of RtspLimits, sized for a small appliance with tens of cameras and readers. */
export const DEFAULT_LIMITS: RtspLimits = {
  maxConnections: 1000,
  maxConnectionsPerIp: 100,
  maxHeaderBytes: 16 * 1024,
  maxBodyBytes: 64 * 1024,
  requestTimeoutMs: 10_000,
  partialRequestTimeoutMs: 10_000,
  sessionTimeoutMs: 60_000,
  readerBufferBytes: 2 * 1024 * 1024,
  readerStallMs: 10_000,
  udpSendQueueBytes: 4 * 1024 * 1024,
  authorizeTimeoutMs: 10_000,
  nonceTtlMs: 5 * 60_000,
  publisherGraceMs: 10_000,
};

/** Options of RtspServer. */
export interface RtspServerOptions {
  /** TCP port of RTSP; 0 picks a free one (see `port` after start). */
  port: number;
  /** Address to bind (TCP and UDP); default 0.0.0.0. */
  host?: string;
  log: Logger;
  authorize: Authorize;
  /** UDP transport: the RTP port of the server's one RTP/RTCP socket pair (RTCP = RTP + 1); 0 picks a free pair;
   * `false` serves TCP interleaved only (SETUP asking for UDP gets 461). Default 0. */
  udpRtpPort?: number | false;
  limits?: Partial<RtspLimits>;
}

/** Events of the server, with their data. */
export interface RtspServerEvents {
  /** `resumed`: a publisher came back within the grace period and the path's readers continue with it. */
  'path-online': { path: string; codecs: string[]; remote: string; transport: RtspTransport; resumed: boolean };
  'path-offline': { path: string; reason: string };
  'auth-failed': {
    path: string;
    action: RtspAction;
    remote: string;
    user?: string;
    reason: 'unauthorized' | 'forbidden';
    /** Totals since start, to report without keeping state. */
    failures: number;
    forbidden: number;
  };
  'reader-dropped': { path: string; remote: string; reason: string };
}

/** An in-process publisher: feeds RTP into a path as if a client had done ANNOUNCE/RECORD. */
export interface PublisherHandle {
  /** Sends one RTP packet of track `trackIndex`; false once the handle is closed or replaced. */
  writeRtp(trackIndex: number, packet: Buffer): boolean;
  /** Sends one RTCP packet (e.g. a sender report) of track `trackIndex`; false once closed. */
  writeRtcp(trackIndex: number, packet: Buffer): boolean;
  /** Takes the path offline (readers are disconnected). Idempotent. */
  close(): void;
  /** True after close() or after another publisher took the path over. */
  readonly closed: boolean;
}
