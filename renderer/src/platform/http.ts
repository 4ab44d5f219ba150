/** `Platform` over same-origin fetch + EventSource, authenticated by the core's HttpOnly `cupola_access` cookie. */
import type { ApiTokenInfo, TokenPair } from '../../../app/defs/api.js';
import type { NodeInfo } from '../../../app/defs/node.js';
import type { DesktopBridge, Platform } from '../../../app/defs/platform.js';
import { ApiError, toApiError } from './api-error.js';
import { EVENT_TYPES } from './event-types.js';
import { parseBusEvent } from './parse-event.js';

declare global {
  interface Window {
    /** Exposed by the Electron preload through contextBridge; absent in a plain browser. */
    cupolaDesktop?: DesktopBridge;
  }
}

/**
 * The browser Platform plus what the renderer's own views read that `Platform` (app/defs) does not cover yet: plain
 * JSON reads of the API (the mosaic's stream lists) and a session renewal for media the browser loads itself (hls.js
 * requests carry the session cookie, and a 401 there means the access cookie expired).
 */
export interface HttpPlatform extends Platform {
  /** GET an API path as JSON with the session; one refresh and retry on 401; throws ApiError. */
  getJson<T>(path: string): Promise<T>;
  /** Renews the session cookie with the refresh token held in memory; false when there is none or it was refused. */
  renewSession(): Promise<boolean>;
}

/** What can be swapped in tests; everything defaults to the page's own globals. */
export interface HttpPlatformOptions {
  /** Prefix for API paths; '' keeps every request same-origin. */
  baseUrl?: string;
  desktop?: DesktopBridge | null;
}

const SSE_RETRY_MIN_MS = 1000;
const SSE_RETRY_MAX_MS = 30_000;

/** Builds the browser Platform. The refresh token lives only in memory: a reload falls back to the cookie. */
export function createHttpPlatform(options: HttpPlatformOptions = {}): HttpPlatform {
  const base = options.baseUrl ?? '';
  const desktop = options.desktop !== undefined ? options.desktop : (window.cupolaDesktop ?? null);
  let refreshToken: string | null = null;
  let refreshing: Promise<boolean> | null = null;

  async function send(method: string, path: string, body?: unknown): Promise<Response> {
    try {
      return await fetch(base + path, {
        method,
        credentials: 'same-origin',
        headers:
          body === undefined
            ? { accept: 'application/json' }
            : { accept: 'application/json', 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (err) {
      throw new ApiError(0, 'unreachable', `Cannot reach the Cupola core (${(err as Error).message})`);
    }
  }

  // One refresh at a time: parallel 401s (node info + token list) must not burn the refresh token twice.
  function refresh(): Promise<boolean> {
    if (!refreshToken) return Promise.resolve(false);
    refreshing ??= (async () => {
      try {
        const res = await send('POST', '/api/v1/auth/refresh', { refreshToken });
        if (!res.ok) {
          refreshToken = null;
          return false;
        }
        refreshToken = ((await res.json()) as TokenPair).refreshToken;
        return true;
      } catch {
        return false;
      } finally {
        refreshing = null;
      }
    })();
    return refreshing;
  }

  async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
    let res = await send(method, path, body);
    if (res.status === 401 && (await refresh())) res = await send(method, path, body);
    if (!res.ok) throw await toApiError(res);
    return (res.status === 204 ? undefined : await res.json()) as T;
  }

  return {
    desktop,

    async login(password) {
      const res = await send('POST', '/api/v1/auth/login', { password });
      if (!res.ok) throw await toApiError(res);
      const pair = (await res.json()) as TokenPair;
      refreshToken = pair.refreshToken;
      return pair;
    },

    async logout() {
      const body = refreshToken ? { refreshToken } : {};
      refreshToken = null;
      const res = await send('POST', '/api/v1/auth/logout', body);
      // An expired session is as logged out as it gets.
      if (!res.ok && res.status !== 401) throw await toApiError(res);
    },

    nodeInfo: () => call<NodeInfo>('GET', '/api/v1/node'),

    listTokens: async () => (await call<{ tokens: ApiTokenInfo[] }>('GET', '/api/v1/tokens')).tokens,

    getJson: <T>(path: string) => call<T>('GET', path),

    renewSession: refresh,

    subscribe(onEvent) {
      let source: EventSource | null = null;
      let timer: ReturnType<typeof setTimeout> | undefined;
      let failures = 0;
      let closed = false;
      let lastId = 0;

      const onMessage = (msg: MessageEvent<string>) => {
        failures = 0;
        const event = parseBusEvent(msg.data);
        if (!event) return;
        if (event.id > lastId) lastId = event.id;
        onEvent(event);
      };

      const open = () => {
        // A fresh EventSource forgets Last-Event-ID; the core accepts it as a query parameter so nothing is missed.
        const es = new EventSource(base + '/api/v1/events' + (lastId ? `?lastEventId=${lastId}` : ''));
        source = es;
        for (const type of EVENT_TYPES) es.addEventListener(type, onMessage);
        es.onmessage = onMessage;
        es.onopen = () => {
          failures = 0;
        };
        // EventSource retries network drops itself but gives up for good on an HTTP error (401 after the cookie
        // expired, 503 while the core restarts): then refresh the session and reopen with capped backoff.
        es.onerror = () => {
          if (es.readyState !== EventSource.CLOSED || closed) return;
          es.close();
          const delay = Math.min(SSE_RETRY_MAX_MS, SSE_RETRY_MIN_MS * 2 ** failures++);
          timer = setTimeout(() => {
            void refresh().finally(() => {
              if (!closed) open();
            });
          }, delay);
        };
      };

      open();
      return () => {
        closed = true;
        clearTimeout(timer);
        source?.close();
      };
    },
  };
}
