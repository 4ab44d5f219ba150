/** Peer shapes shared by the core, the API and the renderer: how a compressor sees each of its slaves. */

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
