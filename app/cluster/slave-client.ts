/**
 * A compressor's link to one slave: opens its event stream (/api/v1/events, resumed with Last-Event-ID), lists its
 * cameras and online streams, and tells the compressor which cameras' F1 came online or went offline. A slave that is
 * down, answers 500s or sends garbage is retried with exponential backoff and jitter and shown as a peer state; it
 * never throws at the caller or leaves a rejection unhandled. The token goes into headers only, never into a log.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Camera } from '../defs/camera.js';
import type { SlaveLinkState, SlavePeerState } from '../defs/peer.js';
import type { Logger } from '../log/logger.js';
import {
  describe,
  SlaveHttp,
  scrub,
  withTimeout,
  type LeaseResult,
  type SlaveEndpoint,
  type SlaveNode,
} from './slave-http.js';
import { followEvents, type SessionHooks } from './slave-session.js';
import type { SseLimits } from './sse-reader.js';
import { StreamTracker } from './slave-streams.js';

export type { LeaseResult, LeaseRtsp, SlaveEndpoint, SlaveNode } from './slave-http.js';

/** Tunables; the defaults suit a LAN. */
export interface SlaveClientOptions {
  /** First and largest delay between attempts. */
  backoffMs: { initial: number; max: number };
  /** No byte on the event stream (heartbeats included) for this long → reconnect. The slave pings every 15 s. */
  idleTimeoutMs: number;
  /** Connected this long → the failure count starts over. */
  stableMs: number;
  /** Each plain request (listings, leases). */
  requestTimeoutMs: number;
  /** How far behind the slave's /streams may be (its media plane reports every 2 s). */
  listingStaleMs: number;
  sseLimits: Partial<SseLimits>;
  log: Logger | null;
}

const DEFAULTS: SlaveClientOptions = {
  backoffMs: { initial: 1000, max: 30_000 },
  idleTimeoutMs: 45_000,
  stableMs: 30_000,
  requestTimeoutMs: 10_000,
  listingStaleMs: 3000,
  sseLimits: {},
  log: null,
};

/** What a SlaveClient reports. */
export interface SlaveClientEvents {
  'f1-online': string;
  'f1-offline': string;
  state: SlavePeerState;
  cameras: Camera[];
}

type Listener<K extends keyof SlaveClientEvents> = (value: SlaveClientEvents[K]) => void;

/** See the file comment. Constructed with the slave; start() connects in the background, stop() waits for the end. */
export class SlaveClient {
  private readonly opts: SlaveClientOptions;
  private readonly http: SlaveHttp;
  private readonly listeners = new Map<keyof SlaveClientEvents, Set<(v: never) => void>>();
  private readonly tracker: StreamTracker;
  private peer: SlavePeerState;
  private cameraList: Camera[] = [];
  private lastEventId = '';
  private stopper: AbortController | null = null;
  private loop: Promise<void> | null = null;

  constructor(
    private readonly slave: SlaveEndpoint,
    options: Partial<SlaveClientOptions> = {},
  ) {
    this.opts = { ...DEFAULTS, ...options };
    this.http = new SlaveHttp(slave);
    this.tracker = new StreamTracker(this.opts.listingStaleMs);
    this.peer = {
      name: slave.name,
      url: slave.url,
      state: 'connecting',
      since: new Date().toISOString(),
      lastError: null,
      retries: 0,
      nextRetryAt: null,
      sseErrors: 0,
    };
  }

  /** Subscribes; returns the unsubscribe function. A listener that throws is logged and does not stop the client. */
  on<K extends keyof SlaveClientEvents>(type: K, fn: Listener<K>): () => void {
    let set = this.listeners.get(type);
    if (!set) this.listeners.set(type, (set = new Set()));
    set.add(fn as (v: never) => void);
    return () => set.delete(fn as (v: never) => void);
  }

  /** The link as it is now. */
  get state(): SlavePeerState {
    return { ...this.peer };
  }

  /** The cameras of the last listing. */
  get cameras(): Camera[] {
    return this.cameraList;
  }

  /** Cameras whose F1 is online now, as far as this client knows. */
  f1Online(): string[] {
    return this.tracker.paths('f1');
  }

  /** F2 paths being published now (by this or another compressor). */
  f2Online(): string[] {
    return this.tracker.paths('f2');
  }

  /** Starts connecting in the background; resolves at once (a slave that is down must not hold up the compressor). */
  async start(): Promise<void> {
    if (this.loop) return;
    this.stopper = new AbortController();
    this.setState('connecting', null, true);
    this.loop = this.run(this.stopper.signal);
  }

  /** Closes the connection, cancels any wait and returns once nothing of this client is left running. */
  async stop(): Promise<void> {
    this.stopper?.abort(new Error('stopped'));
    await this.loop;
    this.loop = null;
    this.stopper = null;
  }

  /** The slave's F1 and F2 ports; null when it cannot say now (unreachable, no media plane). Never throws. */
  async mediaPorts(): Promise<{ f1Port: number; f2Port: number } | null> {
    const signal = this.stopper?.signal ?? new AbortController().signal;
    try {
      return await withTimeout(signal, this.opts.requestTimeoutMs, (s) => this.http.mediaPorts(s));
    } catch {
      return null;
    }
  }

  /** The slave's site and media ports; null when it cannot say now. Never throws. */
  async node(): Promise<SlaveNode | null> {
    const signal = this.stopper?.signal ?? new AbortController().signal;
    try {
      return await withTimeout(signal, this.opts.requestTimeoutMs, (s) => this.http.node(s));
    } catch {
      return null;
    }
  }

  /** Claims (or renews) the lease of `cameraId`; granted, with the lease's RTSP credential. Never throws. */
  claim(cameraId: string, holder: string, ttlS: number): Promise<LeaseResult> {
    return this.request((s) => this.http.claim(cameraId, holder, ttlS, s));
  }

  /** Releases the lease of `cameraId`. Never throws. */
  release(cameraId: string, holder: string): Promise<LeaseResult> {
    return this.request((s) => this.http.release(cameraId, holder, s));
  }

  private request(fn: (s: AbortSignal) => Promise<LeaseResult>): Promise<LeaseResult> {
    const signal = this.stopper?.signal ?? new AbortController().signal;
    return withTimeout(signal, this.opts.requestTimeoutMs, fn);
  }

  /** Connect, follow, back off, again, until stopped. */
  private async run(stop: AbortSignal): Promise<void> {
    let failures = 0;
    while (!stop.aborted) {
      const conn = new AbortController();
      const onStop = () => conn.abort(stop.reason);
      stop.addEventListener('abort', onStop, { once: true });
      const hooks = this.hooks(conn);
      let outcome: { onlineMs: number | null; error: string; protocol: boolean };
      try {
        outcome = await followEvents(this.http, hooks, conn.signal, this.opts);
      } catch (err) {
        outcome = { onlineMs: hooks.onlineMs(), error: describe(err), protocol: false };
      } finally {
        conn.abort(new Error('connection closed'));
        stop.removeEventListener('abort', onStop);
      }
      if (stop.aborted) break;
      const error = scrub(outcome.error, this.slave.token);
      if (outcome.onlineMs !== null && outcome.onlineMs >= this.opts.stableMs) failures = 0;
      const delay = this.backoff(failures++);
      // A connection that was up and ended (slave restart, idle) is retried as `connecting`; a failed attempt, or a
      // stream that had to be dropped for garbage, makes the slave `unreachable`.
      const next: SlaveLinkState = outcome.onlineMs !== null && !outcome.protocol ? 'connecting' : 'unreachable';
      this.peer.retries = failures;
      this.peer.nextRetryAt = new Date(Date.now() + delay).toISOString();
      this.setState(next, error, true);
      this.opts.log?.warn({ slave: this.slave.name, url: this.slave.url, error, delayMs: delay }, 'slave link down');
      await sleep(delay, undefined, { signal: stop }).catch(() => {});
    }
  }

  /**
   * Exponential from `initial`, capped at `max`, with equal jitter (half fixed, half random) so that compressors that
   * lost a slave together do not come back in step. The slave's `retry:` hint is not used: the policy is ours.
   */
  private backoff(failures: number): number {
    const { initial, max } = this.opts.backoffMs;
    const base = Math.min(max, initial * 2 ** Math.min(failures, 20));
    return Math.round(base / 2 + (Math.random() * base) / 2);
  }

  private hooks(conn: AbortController): SessionHooks {
    let onlineAt: number | null = null;
    return {
      lastEventId: () => this.lastEventId,
      setLastEventId: (id) => (this.lastEventId = id),
      onlineMs: () => (onlineAt === null ? null : performance.now() - onlineAt),
      online: () => {
        onlineAt = performance.now();
        this.peer.nextRetryAt = null;
        this.peer.retries = 0;
        this.setState('online', this.peer.lastError);
      },
      cameras: (list) => {
        if (JSON.stringify(list) === JSON.stringify(this.cameraList)) return;
        this.cameraList = list;
        this.emit('cameras', list);
      },
      tracker: this.tracker,
      flush: () => {
        const { online, offline } = this.tracker.takeChanges();
        for (const id of offline) this.emit('f1-offline', id);
        for (const id of online) this.emit('f1-online', id);
      },
      sseError: () => {
        this.peer.sseErrors++;
      },
      drop: (reason) => conn.abort(new Error(reason)),
    };
  }

  private setState(state: SlaveLinkState, lastError: string | null, force = false): void {
    if (!force && state === this.peer.state && lastError === this.peer.lastError) return;
    const changed = state !== this.peer.state;
    this.peer = {
      ...this.peer,
      state,
      lastError,
      since: changed ? new Date().toISOString() : this.peer.since,
    };
    if (changed) this.opts.log?.info({ slave: this.slave.name, state }, 'slave link state');
    this.emit('state', { ...this.peer });
  }

  private emit<K extends keyof SlaveClientEvents>(type: K, value: SlaveClientEvents[K]): void {
    for (const fn of this.listeners.get(type) ?? []) {
      try {
        (fn as Listener<K>)(value);
      } catch (err) {
        this.opts.log?.error({ err, slave: this.slave.name, event: type }, 'slave client listener threw');
      }
    }
  }
}
