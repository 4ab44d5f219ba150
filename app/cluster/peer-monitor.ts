/**
 * A master's watch over its slaves and compressors (`master.slaves`, `master.compressors`): every
 * `master.healthIntervalS` it asks each one for `GET /api/v1/node` with its API token, and keeps what the answer (or
 * the failure) says in a PeerTracker. State changes go to the bus as `peer.health`; `list()` feeds
 * `GET /api/v1/peers` and the metrics, `get(url)` the master role. Tokens never leave the request headers.
 */
import { z } from 'zod';
import { describe, readCapped, scrub, withTimeout } from './slave-http.js';
import type { EventMap } from '../defs/events.js';
import type { NodeInfo } from '../defs/node.js';
import type { PeerHealth, PeerKind, PeerState } from '../defs/peer.js';
import type { Logger } from '../log/logger.js';
import { PeerTracker, type CheckResult } from './peer-tracker.js';

/** One watched node in the config: where, the API token held there, an optional label. */
export interface WatchedEndpoint {
  url: string;
  token: string;
  name?: string | undefined;
}

/** The part of the `master` config section the monitor reads (live, at every use). */
export interface PeerWatchConfig {
  slaves: WatchedEndpoint[];
  compressors: WatchedEndpoint[];
  healthIntervalS: number;
  peerDownAfterS: number;
}

/** Where state changes are published. */
export interface PeerEvents {
  emit(type: 'peer.health', data: EventMap['peer.health']): unknown;
}

/** What a change listener is told: a peer added (previous null), changed state or identity, or removed. */
export interface PeerChange {
  peer: PeerHealth;
  previous: PeerState | null;
  removed: boolean;
}

/** What the monitor is built from; `fetch` and `now` are the seams of unit tests. */
export interface PeerMonitorDeps {
  config: () => PeerWatchConfig;
  bus: PeerEvents;
  log: Pick<Logger, 'info' | 'warn' | 'debug'>;
  fetch?: typeof fetch;
  /** Milliseconds since the epoch, monotonic (default: performance.timeOrigin + performance.now()). */
  now?: () => number;
}

/** Largest /node answer read from a peer. */
const MAX_NODE_BYTES = 256 * 1024;

const nodeBody = z.looseObject({
  name: z.string(),
  site: z.string(),
  roles: z.array(z.string()),
  version: z.string(),
  startedAt: z.string(),
  uptimeS: z.number(),
  pid: z.number(),
  media: z.looseObject({}).nullable(),
  health: z.looseObject({}).nullable().optional(),
});

interface Watched {
  key: string;
  endpoint: WatchedEndpoint;
  tracker: PeerTracker;
  timer: NodeJS.Timeout | null;
  lastStart: number | null;
  inflight: Promise<void> | null;
  abort: AbortController | null;
}

/** Health checks of every configured peer on a fixed cadence; start()/stop() bound every timer and request. */
export class PeerMonitor {
  private readonly peers = new Map<string, Watched>();
  private readonly listeners = new Set<(change: PeerChange) => void>();
  private running = false;
  private intervalS = 0;
  private readonly fetch: typeof fetch;
  private readonly now: () => number;

  constructor(private readonly deps: PeerMonitorDeps) {
    this.fetch = deps.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.now = deps.now ?? (() => performance.timeOrigin + performance.now());
  }

  /** Starts checking every configured peer (the first checks at once). */
  async start(): Promise<void> {
    this.running = true;
    this.reconcile();
    for (const w of this.peers.values()) if (!w.timer && !w.inflight) this.schedule(w, 0);
  }

  /** Stops every timer, aborts the checks in flight and waits for them. */
  async stop(): Promise<void> {
    this.running = false;
    const pending: Array<Promise<void>> = [];
    for (const w of this.peers.values()) {
      this.halt(w);
      if (w.inflight) pending.push(w.inflight);
    }
    await Promise.all(pending);
  }

  /** Applies a changed `master` section: peers added or removed, tokens, names, cadence. */
  reconfigure(): void {
    this.reconcile();
  }

  /** Every watched peer, slaves first, in config order. */
  list(): PeerHealth[] {
    return [...this.peers.values()].map((w) => w.tracker.health());
  }

  /** The peer at `url` (trailing slashes ignored); a slave before a compressor when both are at that URL. */
  get(url: string, kind?: PeerKind): PeerHealth | undefined {
    const target = normalizeUrl(url);
    const order: PeerKind[] = kind ? [kind] : ['slave', 'compressor'];
    for (const k of order) {
      const w = this.peers.get(`${k} ${target}`);
      if (w) return w.tracker.health();
    }
    return undefined;
  }

  /** Calls `fn` on every added or removed peer, state change and identity change; returns the unsubscribe. */
  onChange(fn: (change: PeerChange) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /**
   * Checks every peer once now and applies the results. The timers do this on their own after start(); unit tests
   * call reconfigure() (which reads the peers without starting timers) and then this, with a fake fetch and clock.
   */
  async checkAll(): Promise<void> {
    await Promise.all([...this.peers.values()].map((w) => this.checkOnce(w)));
  }

  private reconcile(): void {
    const c = this.deps.config();
    const wanted = new Map<string, { kind: PeerKind; endpoint: WatchedEndpoint }>();
    for (const [kind, list] of [
      ['slave', c.slaves],
      ['compressor', c.compressors],
    ] as const) {
      for (const endpoint of list) wanted.set(`${kind} ${normalizeUrl(endpoint.url)}`, { kind, endpoint });
    }
    for (const [key, w] of this.peers) {
      if (wanted.has(key)) continue;
      this.halt(w);
      this.peers.delete(key);
      this.notify({ peer: w.tracker.health(), previous: null, removed: true });
    }
    const cadenceChanged = this.intervalS !== 0 && this.intervalS !== c.healthIntervalS;
    this.intervalS = c.healthIntervalS;
    // Map order is insertion order: rebuild it so that list() follows the config (slaves first).
    const ordered: Watched[] = [];
    for (const [key, { kind, endpoint }] of wanted) {
      let w = this.peers.get(key);
      if (w) {
        w.endpoint = endpoint;
        w.tracker.rename(endpoint.name);
        if (cadenceChanged && w.timer && this.running) this.schedule(w, this.delayAfter(w));
      } else {
        const tracker = new PeerTracker(kind, normalizeUrl(endpoint.url), endpoint.name, this.now());
        w = { key, endpoint, tracker, timer: null, lastStart: null, inflight: null, abort: null };
        this.notify({ peer: tracker.health(), previous: null, removed: false });
        if (this.running) this.schedule(w, 0);
      }
      ordered.push(w);
    }
    this.peers.clear();
    for (const w of ordered) this.peers.set(w.key, w);
  }

  private schedule(w: Watched, delayMs: number): void {
    if (w.timer) clearTimeout(w.timer);
    w.timer = setTimeout(() => {
      w.timer = null;
      void this.checkOnce(w).then(() => {
        if (this.running && this.peers.get(w.key) === w && !w.timer) this.schedule(w, this.delayAfter(w));
      });
    }, delayMs);
    w.timer.unref();
  }

  /** Time left until the next check is due: checks start every interval, whatever each one took. */
  private delayAfter(w: Watched): number {
    const interval = this.deps.config().healthIntervalS * 1000;
    return w.lastStart === null ? 0 : Math.max(0, w.lastStart + interval - this.now());
  }

  private halt(w: Watched): void {
    if (w.timer) clearTimeout(w.timer);
    w.timer = null;
    w.abort?.abort(new Error('monitor stopped'));
  }

  private checkOnce(w: Watched): Promise<void> {
    if (w.inflight) return w.inflight;
    w.inflight = (async () => {
      const ctl = new AbortController();
      w.abort = ctl;
      w.lastStart = this.now();
      const result = await this.check(w.endpoint, ctl.signal);
      w.abort = null;
      // A check that was aborted by stop() or removal says nothing about the peer.
      if (ctl.signal.aborted || this.peers.get(w.key) !== w) return;
      this.apply(w, result);
    })().finally(() => {
      w.inflight = null;
    });
    return w.inflight;
  }

  /** One GET /api/v1/node, bounded in time (under the interval) and size; never throws. */
  private async check(endpoint: WatchedEndpoint, signal: AbortSignal): Promise<CheckResult> {
    const started = this.now();
    const timeoutMs = checkTimeoutMs(this.deps.config().healthIntervalS);
    try {
      const node = await withTimeout(signal, timeoutMs, async (s) => {
        const res = await this.fetch(`${endpoint.url.replace(/\/+$/, '')}/api/v1/node`, {
          headers: { authorization: `Bearer ${endpoint.token}`, accept: 'application/json' },
          signal: s,
        });
        const text = await readCapped(res, MAX_NODE_BYTES);
        if (res.status !== 200) throw new Error(`HTTP ${res.status}${errorCode(text)}`);
        const body = nodeBody.safeParse(JSON.parse(text));
        if (!body.success) throw new Error('not a node document');
        return { ...body.data, health: body.data.health ?? null } as unknown as NodeInfo;
      });
      const at = this.now();
      return { ok: true, at, rttMs: at - started, node };
    } catch (err) {
      const refused = (err as { cause?: { code?: unknown } }).cause?.code === 'ECONNREFUSED';
      return { ok: false, at: this.now(), error: scrub(describe(err), endpoint.token), refused };
    }
  }

  private apply(w: Watched, result: CheckResult): void {
    const before = w.tracker.health();
    const previous = w.tracker.apply(result, this.deps.config().peerDownAfterS * 1000);
    const peer = w.tracker.health();
    if (previous !== null) {
      this.deps.bus.emit('peer.health', {
        kind: peer.kind,
        name: peer.name,
        url: peer.url,
        state: peer.state,
        previous,
        rttMs: peer.rttMs,
        lastError: peer.lastError,
      });
      const fields = { kind: peer.kind, name: peer.name, url: peer.url, previous };
      if (peer.state === 'down') this.deps.log.warn({ ...fields, error: peer.lastError }, 'peer down');
      else this.deps.log.info({ ...fields, rttMs: peer.rttMs }, 'peer up');
    } else if (!result.ok) {
      this.deps.log.debug({ kind: peer.kind, name: peer.name, error: peer.lastError }, 'peer check failed');
    }
    if (previous !== null || identity(before.node) !== identity(peer.node) || before.name !== peer.name) {
      this.notify({ peer, previous: previous ?? peer.state, removed: false });
    }
  }

  private notify(change: PeerChange): void {
    for (const fn of this.listeners) {
      try {
        fn(change);
      } catch (err) {
        this.deps.log.warn({ err }, 'peer change listener threw');
      }
    }
  }
}

/** A check gives up after three quarters of the interval (at most 10 s), so that checks never overlap. */
export function checkTimeoutMs(intervalS: number): number {
  return Math.min(10_000, Math.round(intervalS * 750));
}

/** `http://host:port/base` without userinfo, query or trailing slashes (how peers are keyed and shown). */
export function normalizeUrl(url: string): string {
  if (!URL.canParse(url)) return url.replace(/\/+$/, '');
  const u = new URL(url);
  return `${u.origin}${u.pathname.replace(/\/+$/, '')}`;
}

/** What of a node document the master acts on (a change of it is told to listeners; load figures are not). */
function identity(node: NodeInfo | null): string {
  if (!node) return '';
  return JSON.stringify([node.name, node.site, node.roles, node.version, node.startedAt, node.media]);
}

/** ` unauthorized` from an API error body, else nothing. */
function errorCode(text: string): string {
  try {
    const code = (JSON.parse(text) as { error?: { code?: unknown } }).error?.code;
    return typeof code === 'string' ? ` ${code.slice(0, 64)}` : '';
  } catch {
    return '';
  }
}
