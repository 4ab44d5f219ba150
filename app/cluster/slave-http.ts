/**
 * Requests a compressor makes to a slave's API besides the event stream: bounded JSON reads (a broken or hostile
 * slave cannot make us buffer a gigabyte or wait forever) and the lease calls. Nothing here throws at the caller of
 * claim/release, and no message carries the token.
 */
import { z } from 'zod';
import type { Camera } from '../defs/camera.js';

/** Where a slave is and the API token the compressor holds there. */
export interface SlaveEndpoint {
  /** The slave's name in the compressor's config (for logs and the UI). */
  name: string;
  /** Base URL of its API, e.g. `http://10.0.0.5:8080`. */
  url: string;
  /** `cpt_<id>_<secret>`: a plain API token (also the RTSP password on F1/F2). Never logged. */
  token: string;
}

/** What a slave says of itself that its clients need. */
export interface SlaveNode {
  site: string | null;
  ports: { f1Port: number; f2Port: number } | null;
}

/** A lease's own RTSP credential (F1 read and F2 publish of its camera). The password is a secret: never logged. */
export interface LeaseRtsp {
  user: string;
  password: string;
}

/**
 * The outcome of a lease claim or release. A granted claim carries the lease's RTSP credential; null from a slave
 * that gives none (an older version), whose F1/F2 then take the API token as before.
 */
export type LeaseResult =
  | { result: 'granted'; expiresAt: string; rtsp: LeaseRtsp | null }
  | { result: 'released' }
  | { result: 'held'; heldBy: string; expiresAt: string }
  | { result: 'error'; status: number | null; code: string; message: string };

/** Largest JSON body read from a slave (a camera list of thousands fits easily). */
const MAX_JSON_BYTES = 8 * 1024 * 1024;

const camerasBody = z.object({
  cameras: z.array(z.looseObject({ id: z.string(), name: z.string(), enabled: z.boolean() })),
});
const nodeBody = z.object({
  site: z.string().optional(),
  media: z.looseObject({ f1Port: z.int().min(1).max(65535), f2Port: z.int().min(1).max(65535) }).nullable(),
});
const streamsBody = z.object({
  streams: z.array(
    z.looseObject({
      plane: z.string(),
      stats: z.looseObject({ path: z.string(), publisher: z.unknown().optional() }),
    }),
  ),
});

// A lease user goes into a URL's userinfo as is and is a Digest user name: keep it to plain characters.
const grantBody = z.object({
  lease: z.looseObject({ expiresAt: z.string() }),
  rtsp: z
    .looseObject({ user: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/), password: z.string().min(1).max(256) })
    .optional(),
});

/** An error's message with its cause (fetch says only "fetch failed"; the cause says ECONNREFUSED). */
export function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = err.cause as { code?: unknown; message?: unknown } | undefined;
  const detail = typeof cause?.code === 'string' ? cause.code : typeof cause?.message === 'string' ? cause.message : '';
  return detail && !err.message.includes(detail) ? `${err.message} (${detail})` : err.message;
}

/** Text that is safe to show: the token replaced, control characters dropped, length bounded. */
export function scrub(text: string, token: string): string {
  const clean = (token ? text.split(token).join('***') : text).replace(/[\p{Cc}]+/gu, ' ');
  return clean.length > 300 ? `${clean.slice(0, 300)}...` : clean;
}

/** Runs `fn` with a signal that fires on `parent` or after `ms`; the timer never outlives the call. */
export async function withTimeout<T>(parent: AbortSignal, ms: number, fn: (s: AbortSignal) => Promise<T>): Promise<T> {
  const ctl = new AbortController();
  const onAbort = () => ctl.abort(parent.reason);
  if (parent.aborted) onAbort();
  else parent.addEventListener('abort', onAbort, { once: true });
  const timer = setTimeout(() => ctl.abort(new Error(`no answer within ${ms} ms`)), ms);
  try {
    return await fn(ctl.signal);
  } finally {
    clearTimeout(timer);
    parent.removeEventListener('abort', onAbort);
  }
}

/** Reads a response body as text, giving up past `max` bytes. */
export async function readCapped(res: Response, max = MAX_JSON_BYTES): Promise<string> {
  if (!res.body) return '';
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let text = '';
  let bytes = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return text + decoder.decode();
    bytes += value.byteLength;
    if (bytes > max) {
      await reader.cancel().catch(() => {});
      throw new Error(`answer larger than ${max} bytes`);
    }
    text += decoder.decode(value, { stream: true });
  }
}

/** `HTTP 500 internal` from a failed response (the API's error code when the body has one). */
export async function httpError(res: Response): Promise<{ status: number; code: string; message: string }> {
  let code = `http_${res.status}`;
  let message = `HTTP ${res.status}`;
  try {
    const body = JSON.parse(await readCapped(res, 64 * 1024)) as { error?: { code?: unknown; message?: unknown } };
    if (typeof body.error?.code === 'string') code = body.error.code;
    if (typeof body.error?.message === 'string') message = `HTTP ${res.status} ${code}: ${body.error.message}`;
  } catch {
    // Not the API's error shape (a proxy, a crash page): the status says enough.
  }
  return { status: res.status, code, message };
}

/** The API client of one slave (stateless: the connection loop lives in SlaveClient). */
export class SlaveHttp {
  constructor(private readonly slave: SlaveEndpoint) {}

  /** Headers of every request: the token, and JSON. */
  headers(extra: Record<string, string> = {}): Record<string, string> {
    return { authorization: `Bearer ${this.slave.token}`, accept: 'application/json', ...extra };
  }

  /** `<url>/api/v1<path>`. */
  url(path: string): string {
    return `${this.slave.url.replace(/\/+$/, '')}/api/v1${path}`;
  }

  /** GET /cameras. */
  async cameras(signal: AbortSignal): Promise<Camera[]> {
    const body = camerasBody.safeParse(await this.getJson('/cameras', signal));
    if (!body.success) throw new Error('GET /cameras: unexpected answer');
    return body.data.cameras as unknown as Camera[];
  }

  /** GET /node: the slave's F1 and F2 ports (null when the node is no slave or its media plane is not up). */
  async mediaPorts(signal: AbortSignal): Promise<{ f1Port: number; f2Port: number } | null> {
    return (await this.node(signal)).ports;
  }

  /** GET /node: the slave's site and its F1/F2 ports (null while its media plane is not up). */
  async node(signal: AbortSignal): Promise<SlaveNode> {
    const body = nodeBody.safeParse(await this.getJson('/node', signal));
    if (!body.success) throw new Error('GET /node: unexpected answer');
    const { media, site } = body.data;
    return { site: site ?? null, ports: media && { f1Port: media.f1Port, f2Port: media.f2Port } };
  }

  /** GET /streams: the paths of each plane that have a publisher now. */
  async streams(signal: AbortSignal): Promise<{ f1: string[]; f2: string[] }> {
    const body = streamsBody.safeParse(await this.getJson('/streams', signal));
    if (!body.success) throw new Error('GET /streams: unexpected answer');
    // A path waiting for its publisher to come back (publisher null) is offline: stream.offline was published for it.
    const live = body.data.streams.filter((s) => s.stats.publisher);
    const of = (plane: string) => live.filter((s) => s.plane === plane).map((s) => s.stats.path);
    return { f1: of('f1'), f2: of('f2') };
  }

  /** PUT /leases/:cameraId. */
  claim(cameraId: string, holder: string, ttlS: number, signal: AbortSignal): Promise<LeaseResult> {
    return this.lease('PUT', `/leases/${encodeURIComponent(cameraId)}`, signal, JSON.stringify({ holder, ttlS }));
  }

  /** DELETE /leases/:cameraId?holder=. */
  release(cameraId: string, holder: string, signal: AbortSignal): Promise<LeaseResult> {
    const path = `/leases/${encodeURIComponent(cameraId)}?holder=${encodeURIComponent(holder)}`;
    return this.lease('DELETE', path, signal);
  }

  private async getJson(path: string, signal: AbortSignal): Promise<unknown> {
    const res = await fetch(this.url(path), { headers: this.headers(), signal });
    if (!res.ok) throw new Error(`GET ${path}: ${(await httpError(res)).message}`);
    const text = await readCapped(res);
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw new Error(`GET ${path}: the answer is not JSON`);
    }
  }

  private async lease(method: string, path: string, signal: AbortSignal, body?: string): Promise<LeaseResult> {
    try {
      const headers = this.headers(body ? { 'content-type': 'application/json' } : {});
      const res = await fetch(this.url(path), { method, headers, body, signal });
      if (res.status === 409) {
        const heldBy = res.headers.get('x-lease-holder');
        const expiresAt = res.headers.get('x-lease-expires-at') ?? '';
        await res.body?.cancel();
        if (heldBy !== null) return { result: 'held', heldBy: safeDecode(heldBy), expiresAt };
        return { result: 'error', status: 409, code: 'conflict', message: `${method} ${path}: HTTP 409` };
      }
      if (!res.ok) return { result: 'error', ...(await httpError(res)) };
      if (method === 'DELETE') {
        await res.body?.cancel();
        return { result: 'released' };
      }
      const parsed = grantBody.safeParse(JSON.parse(await readCapped(res, 64 * 1024)));
      if (!parsed.success) throw new Error('unexpected answer');
      const { lease, rtsp } = parsed.data;
      return {
        result: 'granted',
        expiresAt: lease.expiresAt,
        rtsp: rtsp ? { user: rtsp.user, password: rtsp.password } : null,
      };
    } catch (err) {
      const message = scrub(`${method} ${path.split('?')[0]}: ${describe(err)}`, this.slave.token);
      return { result: 'error', status: null, code: 'request_failed', message };
    }
  }
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
