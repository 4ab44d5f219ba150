/** Messages between the core and the media-plane worker over the Supervisor's IPC channel. Data only. */
import type { RtspPathStats, RtspServerCounters } from '../../defs/rtsp.js';
import type { RtmpIngestCounters, RtmpStreamStats } from '../rtmp/index.js';
import type { PullStats } from '../rtsp-client/index.js';

/** Who may publish and read: kept in the worker so that no media connection waits for the core. */
export interface AccessTables {
  /** Push cameras: id → SHA-256 (hex) of the publish key; disabled cameras are absent. */
  cameras: Array<{ id: string; keyHash: string }>;
  /** Active API tokens as RTSP passwords: SHA-256 (base64url) of the secret for Basic, HA1 for Digest (user = id). */
  tokens: Array<{ id: string; hash: string; ha1: string | null }>;
  /** Users from `rtsp.users`. */
  users: Array<{ user: string; password: string; read: string[]; publish: string[] }>;
  /** Enabled rtsp-pull cameras, pulled into F1 as `<id>`. The password is here because the worker must send it. */
  pulls: Array<{ id: string; url: string; user: string | null; password: string | null }>;
  /**
   * Master: streams relayed from slaves as `<site>/<camera>`. An `f1` relay is served on F1 (RTSP) and over RTMP
   * (app `<site>`, stream `<camera>`), an `f2` relay on F2. The slave token is here because the worker sends it.
   */
  relays: RelayEntry[];
}

/**
 * A camera under a lease (app/cameras/leases.ts): while it is listed, F2 `<path>` admits only the API token
 * `tokenId` and the lease's own RTSP credential as its publisher. That credential (user `rtspUser`, checked with the
 * SHA-256 of its password for Basic and its HA1 for Digest: the password never comes here) reads F1 `<path>` and
 * publishes F2 `<path>`, nothing else. `holder` is the compressor's name, for logs. Sent on every lease change, not
 * per request.
 */
export interface LeaseEntry {
  path: string;
  tokenId: string;
  holder: string;
  rtspUser: string;
  /** SHA-256 (base64url) of the lease's RTSP password. */
  rtspHash: string;
  /** MD5(user:cupola:password). */
  rtspHa1: string;
}

/** One relayed stream (see AccessTables.relays). */
export interface RelayEntry {
  plane: 'f1' | 'f2';
  path: string;
  url: string;
  user: string | null;
  password: string | null;
}

/** A relay as its puller sees it (no credentials). */
export type RelayStatus = PullStats & { plane: 'f1' | 'f2'; path: string };

/** Where the worker listens. */
export interface PlanePorts {
  host: string;
  rtmpPort: number;
  f1Port: number;
  f2Port: number;
}

/**
 * Core → worker. Leases travel apart from the tables: they change with every job that starts or moves, and a new
 * tables message reconciles every puller.
 */
export type ToWorker =
  | { type: 'configure'; ports: PlanePorts; tables: AccessTables; leases: LeaseEntry[]; options: PlaneOptions }
  | { type: 'tables'; tables: AccessTables }
  | { type: 'leases'; leases: LeaseEntry[] };

/** Behaviour of the plane that comes from the config. */
export interface PlaneOptions {
  /** How long readers wait for a publisher that left (a restarting camera or compressor); 0 closes them at once. */
  publisherGraceMs: number;
  /** Connection bounds of each RTSP port (rtsp.maxConnections, rtsp.maxConnectionsPerIp); the server's own if absent. */
  maxConnections?: number;
  maxConnectionsPerIp?: number;
}

/** A stream as the worker reports it. `plane` says which RTSP port serves it. */
export interface PlaneStream {
  plane: 'f1' | 'f2';
  stats: RtspPathStats;
  /** F1 of a push camera: what the RTMP ingest sees (codec, resolution, fps, bitrate in, keyframe interval). */
  ingest?: RtmpStreamStats;
  /** F1 of a pulled camera: the puller's state, reconnects and last error. */
  pull?: Pick<PullStats, 'state' | 'since' | 'reconnects' | 'lastError'>;
  /** A master's relayed stream: the same figures of its puller. */
  relay?: Pick<PullStats, 'state' | 'since' | 'reconnects' | 'lastError'>;
}

/** Worker → core. */
export type FromWorker =
  | { type: 'booted' }
  | { type: 'started'; ports: PlanePorts }
  | { type: 'failed'; message: string }
  | { type: 'stream-online'; plane: 'f1' | 'f2'; path: string }
  | { type: 'stream-offline'; plane: 'f1' | 'f2'; path: string }
  | { type: 'auth-failed'; plane: 'f1' | 'f2' | 'rtmp'; path: string; remote: string; reason: string }
  | { type: 'stats'; streams: PlaneStream[]; counters: MediaCounters; pulls: PullStatus[]; relays: RelayStatus[] };

/** An rtsp-pull camera as its puller sees it, online or not (a wrong password shows here, in lastError). */
export type PullStatus = PullStats & { camera: string };

/**
 * Totals since the worker started, per port: what was refused, dropped or timed out. On F2, `leaseRefused` counts
 * publishers refused because another token holds the camera's lease (also counted in `authForbidden`).
 */
export interface MediaCounters {
  f1: RtspServerCounters;
  f2: RtspServerCounters & { leaseRefused: number };
  rtmp: RtmpIngestCounters | null;
}
