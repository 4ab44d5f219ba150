/**
 * RtspPuller: keeps one camera pulled into a path. Each attempt is a PullSession; when one ends (camera down, wrong
 * password, stall, garbage) the next starts after an exponential backoff, reset once a session has stayed up.
 */
import type { Logger } from '../../log/logger.js';
import { withoutCredentials } from './control-urls.js';
import { PullSession, type PullTarget } from './pull-session.js';

/** What the puller is doing. */
export type PullState = 'connecting' | 'playing' | 'backoff' | 'stopped';

/** A snapshot of a puller, safe to log and to show (no credentials). */
export interface PullStats {
  state: PullState;
  /** When the state last changed (ISO 8601). */
  since: string;
  /** Sessions started after the first. */
  reconnects: number;
  /** Why the last session ended; null before any ended. */
  lastError: string | null;
  /** RTP received from the camera, over all sessions. */
  bytesIn: number;
  packetsIn: number;
}

/** Options of RtspPuller. */
export interface RtspPullerOptions {
  /** rtsp:// URL; credentials in it are ignored (they come from `user` and `password`). */
  url: string;
  user?: string | null;
  password?: string | null;
  /** Path the stream is published as on the target. */
  path: string;
  target: PullTarget;
  log: Logger;
  /** TCP connect and each request (default 10 s). */
  requestTimeoutMs?: number;
  /** No RTP for this long while playing → reconnect (default 10 s). */
  stallMs?: number;
  /** Keepalive period (default: half the session timeout the camera announces). */
  keepaliveMs?: number;
  /** Retry delays: from `initialMs` doubling to `maxMs`; back to `initialMs` after a session played `stableMs`. */
  backoff?: { initialMs?: number; maxMs?: number; stableMs?: number };
}

/** See the file comment. start() returns at once; stop() resolves when no socket or timer is left. */
export class RtspPuller {
  private state: PullState = 'stopped';
  private since = new Date().toISOString();
  private reconnects = 0;
  private lastError: string | null = null;
  private readonly counters = { bytesIn: 0, packetsIn: 0 };
  private session: PullSession | null = null;
  private loop: Promise<void> | null = null;
  private stopping = false;
  private sleepTimer: NodeJS.Timeout | undefined;
  private wake: (() => void) | null = null;

  constructor(private readonly opts: RtspPullerOptions) {}

  /** Starts pulling (idempotent). */
  start(): void {
    if (this.loop || this.stopping) return;
    this.loop = this.run();
  }

  /** Stops pulling: the session ends (TEARDOWN), the path is closed; resolves once everything is released. */
  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.sleepTimer);
    this.wake?.();
    this.session?.abort('stopped');
    await this.loop;
    this.setState('stopped');
  }

  /** Current state and totals. */
  stats(): PullStats {
    const { state, since, reconnects, lastError } = this;
    return { state, since, reconnects, lastError, ...this.counters };
  }

  private async run(): Promise<void> {
    const o = this.opts;
    const initialMs = o.backoff?.initialMs ?? 1000;
    const maxMs = o.backoff?.maxMs ?? 30_000;
    const stableMs = o.backoff?.stableMs ?? 30_000;
    const log = o.log.child({ component: 'rtsp-pull', path: o.path, url: withoutCredentials(o.url) });
    const credentials = o.user ? { user: o.user, password: o.password ?? '' } : null;
    let delay = initialMs;
    for (let attempt = 0; !this.stopping; attempt++) {
      if (attempt > 0) this.reconnects++;
      this.setState('connecting');
      let playingSince = 0;
      const session = new PullSession({
        url: withoutCredentials(o.url),
        credentials,
        path: o.path,
        target: o.target,
        log,
        requestTimeoutMs: o.requestTimeoutMs ?? 10_000,
        stallMs: o.stallMs ?? 10_000,
        ...(o.keepaliveMs !== undefined ? { keepaliveMs: o.keepaliveMs } : {}),
        counters: this.counters,
        onPlaying: () => {
          playingSince = Date.now();
          this.setState('playing');
          log.info({ reconnects: this.reconnects }, 'camera pulled');
        },
      });
      this.session = session;
      const reason = await session.run();
      this.session = null;
      if (this.stopping) break;
      if (playingSince > 0 && Date.now() - playingSince >= stableMs) delay = initialMs;
      // The same failure again (a camera that stays down) is logged once, not every retry.
      const level = reason === this.lastError ? 'debug' : 'warn';
      this.lastError = reason;
      // Up to +20 % jitter, so that cameras behind one failed switch do not all come back in the same instant.
      const wait = Math.round(delay * (1 + Math.random() * 0.2));
      log[level]({ reason, retryInMs: wait }, 'camera pull ended');
      this.setState('backoff');
      await this.sleep(wait);
      delay = Math.min(delay * 2, maxMs);
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      this.wake = resolve;
      this.sleepTimer = setTimeout(resolve, ms);
    }).then(() => {
      clearTimeout(this.sleepTimer);
      this.wake = null;
    });
  }

  private setState(state: PullState): void {
    if (state === this.state) return;
    this.state = state;
    this.since = new Date().toISOString();
  }
}
