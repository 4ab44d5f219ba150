/**
 * The state of one watched peer, moved by the results of its health checks (no I/O, no timers: the monitor feeds it).
 *
 * unknown → up on an answer; unknown → down on a first failure; up → down when a failed check finds the last answer
 * older than `downAfterMs`, or at once when the connection was refused (nothing listens: the process is gone);
 * down → up on the next answer. A single lost answer (a timeout, a 500, a reset) on a busy machine therefore does not
 * flap: with the defaults (check every 2 s, down after 4 s) it takes two failed checks in a row to show `down`.
 */
import type { NodeInfo } from '../defs/node.js';
import type { PeerHealth, PeerKind, PeerState } from '../defs/peer.js';

/** What one check found; `at` is in milliseconds on the monitor's clock (epoch-based). */
export type CheckResult =
  { ok: true; at: number; rttMs: number; node: NodeInfo } | { ok: false; at: number; error: string; refused: boolean };

/** The health of one peer. */
export class PeerTracker {
  private state: PeerState = 'unknown';
  private since: number;
  private lastSeenAt: number | null = null;
  private rttMs: number | null = null;
  private lastError: string | null = null;
  private node: NodeInfo | null = null;

  constructor(
    readonly kind: PeerKind,
    readonly url: string,
    private configuredName: string | undefined,
    now: number,
  ) {
    this.since = now;
  }

  /** The configured name changed (undefined: fall back to the node's own name, else host:port). */
  rename(name: string | undefined): void {
    this.configuredName = name;
  }

  /** Applies a check's result; returns the previous state when the state changed, else null. */
  apply(result: CheckResult, downAfterMs: number): PeerState | null {
    let next: PeerState;
    if (result.ok) {
      this.lastSeenAt = result.at;
      this.rttMs = Math.round(result.rttMs * 10) / 10;
      this.node = result.node;
      next = 'up';
    } else {
      this.lastError = result.error;
      const silentFor = this.lastSeenAt === null ? Infinity : result.at - this.lastSeenAt;
      const gone = this.state !== 'up' || result.refused || silentFor >= downAfterMs;
      next = gone ? 'down' : 'up';
    }
    if (next === this.state) return null;
    const previous = this.state;
    this.state = next;
    this.since = result.at;
    return previous;
  }

  /** The shape the API, events and metrics show (a copy). */
  health(): PeerHealth {
    return {
      kind: this.kind,
      name: this.configuredName ?? this.node?.name ?? hostOf(this.url),
      url: this.url,
      state: this.state,
      since: new Date(this.since).toISOString(),
      lastSeen: this.lastSeenAt === null ? null : new Date(this.lastSeenAt).toISOString(),
      rttMs: this.rttMs,
      lastError: this.lastError,
      node: this.node,
    };
  }
}

function hostOf(url: string): string {
  return URL.canParse(url) ? new URL(url).host : url;
}
