/**
 * The relay's client of the control server's SSE endpoint. Reconnects with exponential backoff and jitter, sending
 * `Last-Event-ID`; a heartbeat timeout drops a connection that went silent (no event, no comment) without closing;
 * malformed or oversized input is skipped and reported, never thrown. Events are handed over as they arrive: what
 * they mean is the controller's business.
 */
import { SseReader, type SseItem } from '../cluster/sse-reader.js';
import { describe } from '../cluster/slave-http.js';
import type { SseClientState, SseClientStatus } from '../defs/relay.js';
import { maskUrl } from '../log/mask.js';

/** Where and how to connect. */
export interface SseClientOptions {
  url: string;
  authHeaderName: string;
  authHeader?: string;
  heartbeatTimeoutMs: number;
  reconnectInitialMs: number;
  reconnectMaxMs: number;
  maxEventBytes: number;
}

/** One received event. */
export interface ReceivedEvent {
  id: string;
  type: string;
  data: string;
}

/** What the client reports to its owner. */
export interface SseClientHooks {
  event(e: ReceivedEvent): void;
  /** A malformed or oversized piece of input was skipped. */
  refused(reason: string): void;
  state(status: SseClientStatus, reconnectInMs: number | null): void;
}

/** Longest wait in stop() for the connection loop to end. */
const STOP_WAIT_MS = 2000;

/** Malformed pieces tolerated on one connection before it is dropped and reopened. */
const MAX_GARBAGE = 50;

/** See the file comment. */
export class SseClient {
  /** Ends the current connection (abort, and cancel its reader: an abort alone may not end a pending read). */
  private dropCurrent: ((why: string) => void) | null = null;
  private loop: Promise<void> | null = null;
  private wake: (() => void) | null = null;
  private stopped = true;
  private retryMs: number | null = null;
  private readonly st: SseClientStatus;

  constructor(
    private readonly opts: SseClientOptions,
    private readonly hooks: SseClientHooks,
    lastEventId: string | null,
  ) {
    this.st = {
      state: 'disabled',
      url: maskUrl(opts.url),
      lastEventId,
      connectedAt: null,
      lastEventAt: null,
      reconnects: -1,
      lastError: null,
      eventsReceived: 0,
      refused: 0,
    };
  }

  /** Starts connecting (in the background). */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.loop = this.run();
  }

  /** Closes the connection and cancels any reconnect; resolves once the loop has ended. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.dropCurrent?.('stopped');
    this.wake?.();
    // Bounded: a connection that ignores both the abort and the cancel must not hold the node's stop up.
    let timer: NodeJS.Timeout | undefined;
    const bound = new Promise<void>((resolve) => (timer = setTimeout(resolve, STOP_WAIT_MS)));
    await Promise.race([this.loop, bound]);
    clearTimeout(timer);
    this.loop = null;
    this.setState('disabled', null);
  }

  /** A snapshot of the connection. */
  status(): SseClientStatus {
    return { ...this.st, reconnects: Math.max(0, this.st.reconnects) };
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (!this.stopped) {
      const { gotInput, error } = await this.connectOnce();
      if (this.stopped) break;
      this.st.lastError = error;
      failures = gotInput ? 1 : failures + 1;
      const base = Math.max(this.opts.reconnectInitialMs, this.retryMs ?? 0);
      const raw = Math.min(this.opts.reconnectMaxMs, base * 2 ** (failures - 1));
      const delay = Math.round(raw * (0.8 + Math.random() * 0.4));
      this.setState('waiting', delay);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, delay);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = null;
    }
  }

  /** One connection, from request to its end; says whether anything arrived and why it ended. */
  private async connectOnce(): Promise<{ gotInput: boolean; error: string }> {
    const ctl = new AbortController();
    let reader: ReadableStreamDefaultReader<Uint8Array> | null = null;
    let dropped: string | null = null;
    const drop = (why: string) => {
      dropped ??= why;
      ctl.abort(new Error(why));
      reader?.cancel(why).catch(() => {});
    };
    this.dropCurrent = drop;
    this.st.reconnects++;
    this.setState('connecting', null);
    let gotInput = false;
    const silent = `no event or heartbeat for ${this.opts.heartbeatTimeoutMs} ms`;
    const heartbeat = setTimeout(() => drop(silent), this.opts.heartbeatTimeoutMs);
    const why = (err: unknown) => dropped ?? describe(err);
    try {
      const headers: Record<string, string> = { accept: 'text/event-stream', 'cache-control': 'no-cache' };
      if (this.st.lastEventId) headers['last-event-id'] = this.st.lastEventId;
      if (this.opts.authHeader) headers[this.opts.authHeaderName] = this.opts.authHeader;
      const res = await fetch(this.opts.url, { headers, signal: ctl.signal, redirect: 'error' });
      const type = res.headers.get('content-type') ?? '';
      if (!res.ok || !res.body || !type.startsWith('text/event-stream')) {
        await res.body?.cancel().catch(() => {});
        const hint = res.status === 401 || res.status === 403 ? ' (check relay.sse.authHeader)' : '';
        const what = res.ok ? `not an event stream (content-type ${JSON.stringify(type.slice(0, 60))})` : '';
        return { gotInput, error: `HTTP ${res.status}${hint}${what ? `: ${what}` : ''}` };
      }
      this.st.connectedAt = new Date().toISOString();
      this.setState('connected', null);
      const sse = new SseReader({ maxLineChars: this.opts.maxEventBytes, maxEventChars: this.opts.maxEventBytes });
      reader = res.body.getReader();
      let garbage = 0;
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) return { gotInput, error: dropped ?? 'the server closed the event stream' };
          heartbeat.refresh();
          for (const item of sse.push(value)) {
            gotInput = true;
            if (item.kind === 'error' && ++garbage > MAX_GARBAGE) drop(`more than ${MAX_GARBAGE} malformed lines`);
            this.onItem(item);
          }
          if (sse.lastEventId) this.st.lastEventId = sse.lastEventId;
        }
      } finally {
        await reader.cancel().catch(() => {});
      }
    } catch (err) {
      return { gotInput, error: why(err) };
    } finally {
      clearTimeout(heartbeat);
      this.dropCurrent = null;
    }
  }

  private onItem(item: SseItem): void {
    if (item.kind === 'retry') this.retryMs = Math.min(this.opts.reconnectMaxMs, Math.max(100, item.ms));
    else if (item.kind === 'error') {
      this.st.refused++;
      this.hooks.refused(`${item.reason}: ${item.detail}`);
    } else if (item.kind === 'event') {
      this.st.eventsReceived++;
      this.st.lastEventAt = new Date().toISOString();
      this.hooks.event({ id: item.id, type: item.type, data: item.data });
    }
  }

  private setState(state: SseClientState, reconnectInMs: number | null): void {
    if (state === this.st.state && reconnectInMs === null) return;
    this.st.state = state;
    this.hooks.state(this.status(), reconnectInMs);
  }
}
