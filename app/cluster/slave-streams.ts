/**
 * Which F1 and F2 paths of one slave are online, merged from two sources that disagree in time: listings
 * (GET /streams, which the slave refreshes from its media plane only every 2 s, so up to that much behind) and
 * stream.online/offline events (prompt). A listing therefore does not overrule a path that had an event shortly
 * before the listing was asked for; the client lists once more after that window to catch what happened before
 * its event stream opened. Changes are handed out in batches, so that a replay that flaps a path ends as one change.
 */

/** The two RTSP planes of a slave. */
export type Plane = 'f1' | 'f2';

/** Paths that went online and offline since the previous takeChanges(). */
export interface PathChanges {
  online: string[];
  offline: string[];
}

/** See the file comment. */
export class StreamTracker {
  private readonly online: Record<Plane, Set<string>> = { f1: new Set(), f2: new Set() };
  /** Monotonic ms of the last event per `<plane> <path>`. */
  private readonly eventAt = new Map<string, number>();
  /** F1 paths as last reported to the consumer. */
  private reported = new Set<string>();

  constructor(
    /** How far behind a listing may be (the slave's stats period plus a margin). */
    private readonly staleMs = 3000,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Applies a listing asked for at `requestedAt` (monotonic ms). */
  applyListing(listing: Record<Plane, string[]>, requestedAt: number): void {
    for (const plane of ['f1', 'f2'] as const) {
      const listed = new Set(listing[plane]);
      const set = this.online[plane];
      for (const path of new Set([...listed, ...set])) {
        const last = this.eventAt.get(`${plane} ${path}`);
        if (last !== undefined && last > requestedAt - this.staleMs) continue;
        if (listed.has(path)) set.add(path);
        else set.delete(path);
      }
    }
    this.forgetOldEvents();
  }

  /** Applies stream.online / stream.offline. */
  applyEvent(plane: Plane, path: string, online: boolean): void {
    this.eventAt.set(`${plane} ${path}`, this.now());
    if (online) this.online[plane].add(path);
    else this.online[plane].delete(path);
  }

  /** F1 changes since the last call (the consumer's view is updated to the current one). */
  takeChanges(): PathChanges {
    const now = this.online.f1;
    const online = [...now].filter((p) => !this.reported.has(p)).sort();
    const offline = [...this.reported].filter((p) => !now.has(p)).sort();
    this.reported = new Set(now);
    return { online, offline };
  }

  /** Paths online on a plane now. */
  paths(plane: Plane): string[] {
    return [...this.online[plane]].sort();
  }

  /** Event times only matter for one stale window; dropping older ones keeps the map bounded by recent activity. */
  private forgetOldEvents(): void {
    const horizon = this.now() - 2 * this.staleMs;
    for (const [key, at] of this.eventAt) if (at < horizon) this.eventAt.delete(key);
  }
}
