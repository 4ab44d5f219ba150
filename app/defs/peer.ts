/** Peer shapes shared by the core, the API and the renderer: how a compressor sees each of its slaves. */
import type { NodeInfo } from './node.js';

/** The link to one slave: connecting (first attempt or right after a drop), online (SSE open), unreachable. */
export type SlaveLinkState = 'connecting' | 'online' | 'unreachable';

/** One slave as a compressor sees it. Never carries the API token. */
export interface SlavePeerState {
  name: string;
  url: string;
  state: SlaveLinkState;
  /** When `state` last changed. */
  since: string;
  /** Why the last attempt or connection failed (kept after recovery, for the UI's history). */
  lastError: string | null;
  /** Failed attempts in a row (0 while online; the backoff delay itself starts over only after a stable connection). */
  retries: number;
  /** When the next attempt is due while unreachable, else null. */
  nextRetryAt: string | null;
  /** Malformed SSE input seen from this slave since start (lines too long, unknown fields, bad JSON...). */
  sseErrors: number;
}

/** A peer's state as a master sees it: `unknown` until the first check has answered or failed. */
export type PeerState = 'unknown' | 'up' | 'down';

/** One slave or compressor a master watches (`GET /api/v1/peers`). Never carries the API token. */
export interface PeerHealth {
  kind: 'slave' | 'compressor';
  /** The configured name, else the node's own name once known, else host:port. */
  name: string;
  url: string;
  state: PeerState;
  /** When `state` last changed. */
  since: string;
  /** When the peer last answered; null if it never did. */
  lastSeen: string | null;
  /** Round trip of the last answered check. */
  rttMs: number | null;
  /** Why the last check failed (kept after recovery, for the UI's history). */
  lastError: string | null;
  /** The peer's last `GET /api/v1/node` answer (identity, uptime, version, health figures); null before one. */
  node: NodeInfo | null;
}
