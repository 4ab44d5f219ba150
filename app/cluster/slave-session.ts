/**
 * One connection of a SlaveClient: opens the slave's event stream, lists cameras and streams, then follows the stream
 * until it ends, goes silent, turns to garbage or is aborted. Returns why it ended instead of throwing.
 */
import type { Camera } from '../defs/camera.js';
import { describe, httpError, withTimeout, type SlaveHttp } from './slave-http.js';
import type { StreamTracker } from './slave-streams.js';
import { SseReader, type SseItem, type SseLimits } from './sse-reader.js';

/** What a session reads from and reports to its client. */
export interface SessionHooks {
  lastEventId(): string;
  setLastEventId(id: string): void;
  /** Ms since online() was called in this session, or null before. */
  onlineMs(): number | null;
  /** The stream is open and the first listing applied. */
  online(): void;
  cameras(list: Camera[]): void;
  tracker: StreamTracker;
  /** Report the tracker's changes (called after each batch of input). */
  flush(): void;
  /** Count one malformed piece of input. */
  sseError(): void;
  /** Abort this connection with a reason. */
  drop(reason: string): void;
}

/** Why a session ended; `protocol` when the slave sent something we had to drop the connection for. */
export interface SessionEnd {
  onlineMs: number | null;
  error: string;
  protocol: boolean;
}

/** Timings and bounds a session uses. */
export interface SessionOptions {
  idleTimeoutMs: number;
  requestTimeoutMs: number;
  listingStaleMs: number;
  sseLimits: Partial<SseLimits>;
}

/** Malformed lines or events tolerated on one connection before it is dropped (ours sends none). */
const MAX_GARBAGE = 5;

const CAMERA_EVENTS = new Set(['camera.created', 'camera.updated', 'camera.deleted']);

/** Follows the slave's events on `signal` (the connection); see the file comment. */
export async function followEvents(
  http: SlaveHttp,
  hooks: SessionHooks,
  signal: AbortSignal,
  opts: SessionOptions,
): Promise<SessionEnd> {
  const end = (error: string, protocol = false): SessionEnd => ({ onlineMs: hooks.onlineMs(), error, protocol });
  const why = (err: unknown) => (signal.aborted ? describe(signal.reason) : describe(err));

  // The stream is opened before the listing, so that nothing that happens in between is missed.
  const lastId = hooks.lastEventId();
  const headers = http.headers({ accept: 'text/event-stream', ...(lastId ? { 'last-event-id': lastId } : {}) });
  const answer = setTimeout(() => hooks.drop(`no answer within ${opts.requestTimeoutMs} ms`), opts.requestTimeoutMs);
  let res: Response;
  try {
    res = await fetch(http.url('/events'), { headers, signal });
    if (!res.ok) return end(`GET /events: ${(await httpError(res)).message}`);
  } catch (err) {
    return end(`GET /events: ${why(err)}`);
  } finally {
    clearTimeout(answer);
  }
  const type = res.headers.get('content-type') ?? '';
  if (!res.body || !type.startsWith('text/event-stream')) {
    await res.body?.cancel().catch(() => {});
    return end(`GET /events: not an event stream (content-type ${JSON.stringify(type.slice(0, 60))})`, true);
  }

  const lister = relister(http, hooks, signal, opts);
  const reader = res.body.getReader();
  let idle: NodeJS.Timeout | null = null;
  try {
    await lister.now(true, true);
    hooks.online();
    hooks.flush();
    // A listing may be up to listingStaleMs behind the slave: one more after that catches what it missed.
    lister.later(opts.listingStaleMs);
    const sse = new SseReader(opts.sseLimits);
    let garbage = 0;
    let fatal: string | null = null;
    const onItem = (item: SseItem) => {
      if (item.kind === 'error') {
        hooks.sseError();
        garbage++;
        if (item.reason === 'line-too-long' || garbage > MAX_GARBAGE) fatal ??= `event stream: ${item.detail}`;
      } else if (item.kind === 'event' && !handleEvent(item.type, item.data, hooks, lister)) {
        hooks.sseError();
        if (++garbage > MAX_GARBAGE) fatal ??= `event stream: malformed ${item.type} events`;
      }
    };
    idle = setTimeout(() => hooks.drop(`event stream silent for ${opts.idleTimeoutMs} ms`), opts.idleTimeoutMs);
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return end('the slave closed the event stream');
      idle.refresh();
      for (const item of sse.push(value)) onItem(item);
      if (sse.lastEventId) hooks.setLastEventId(sse.lastEventId);
      hooks.flush();
      if (fatal) return end(fatal, true);
    }
  } catch (err) {
    return end(why(err));
  } finally {
    if (idle) clearTimeout(idle);
    lister.cancel();
    await reader.cancel().catch(() => {});
    await lister.idle();
  }
}

/** Applies one event; false when it is one we know but cannot read. */
function handleEvent(type: string, data: string, hooks: SessionHooks, lister: Relister): boolean {
  if (type === 'reset') {
    // Events were missed (the slave's history moved on): start again from listings.
    lister.now(true, true).catch(() => {});
    return true;
  }
  if (CAMERA_EVENTS.has(type)) {
    lister.now(true, false).catch(() => {});
    return true;
  }
  if (type !== 'stream.online' && type !== 'stream.offline') return true;
  let body: { data?: { plane?: unknown; path?: unknown } };
  try {
    body = JSON.parse(data) as typeof body;
  } catch {
    return false;
  }
  const plane = body?.data?.plane;
  const path = body?.data?.path;
  if ((plane !== 'f1' && plane !== 'f2') || typeof path !== 'string') return false;
  hooks.tracker.applyEvent(plane, path, type === 'stream.online');
  return true;
}

/** Listings of one connection, one at a time, coalesced; a failed listing drops the connection. */
interface Relister {
  now(cameras: boolean, streams: boolean): Promise<void>;
  later(ms: number): void;
  cancel(): void;
  idle(): Promise<void>;
}

function relister(http: SlaveHttp, hooks: SessionHooks, signal: AbortSignal, opts: SessionOptions): Relister {
  let want = { cameras: false, streams: false };
  let running: Promise<void> | null = null;
  let timer: NodeJS.Timeout | null = null;
  const once = async (cameras: boolean, streams: boolean) => {
    const askedAt = performance.now();
    const timed = <T>(fn: (s: AbortSignal) => Promise<T>) => withTimeout(signal, opts.requestTimeoutMs, fn);
    const [list, paths] = await Promise.all([
      cameras ? timed((s) => http.cameras(s)) : null,
      streams ? timed((s) => http.streams(s)) : null,
    ]);
    if (list) hooks.cameras(list);
    if (paths) hooks.tracker.applyListing(paths, askedAt);
    // The first listing's changes are reported once the link is online, after the state change.
    if (hooks.onlineMs() !== null) hooks.flush();
  };
  const pump = async () => {
    try {
      while (want.cameras || want.streams) {
        const { cameras, streams } = want;
        want = { cameras: false, streams: false };
        await once(cameras, streams);
      }
    } finally {
      // Cleared here, not in a later callback, so that a request made right after the last listing starts a new one.
      running = null;
    }
  };
  const self: Relister = {
    now(cameras, streams) {
      want = { cameras: want.cameras || cameras, streams: want.streams || streams };
      running ??= pump().catch((err: Error) => {
        hooks.drop(signal.aborted ? 'connection closed' : `listing: ${err.message}`);
        throw err;
      });
      return running;
    },
    later(ms) {
      timer = setTimeout(() => self.now(false, true).catch(() => {}), ms);
    },
    cancel() {
      if (timer) clearTimeout(timer);
      timer = null;
    },
    idle: () => (running ?? Promise.resolve()).catch(() => {}),
  };
  return self;
}
