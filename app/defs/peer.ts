/**
 * Peer shapes shared by the core, the API and the renderer: how a compressor sees each of its slaves (a link,
 * `SlavePeerState`) and how a master sees each slave and compressor it watches (`PeerHealth`).
 */
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

/** What a watched peer is to a master. */
export type PeerKind = 'slave' | 'compressor';

/** One slave or compressor a master watches (`GET /api/v1/peers`). Never carries the API token. */
export interface PeerHealth {
  kind: PeerKind;
  /** The configured name, else the node's own name once known, else host:port. */
  name: string;
  url: string;
  state: PeerState;
  /** When `state` last changed. */
  since: string;
  /** When the peer last answered a check with its node document; null if it never did. */
  lastSeen: string | null;
  /** Round trip of the last answered check. */
  rttMs: number | null;
  /** Why the last check failed (kept after recovery, for the UI's history). */
  lastError: string | null;
  /** Its last `GET /api/v1/node` answer (identity, uptime, version, health figures), kept while down; null before. */
  node: NodeInfo | null;
}
