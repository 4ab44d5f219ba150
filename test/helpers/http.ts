/** HTTP helpers for integration tests: a small JSON client, the API error-shape assertion, an SSE reader, curl. */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { request as httpRequest, type IncomingMessage } from 'node:http';

/** A response with its body read as text and, when it parses, as JSON. */
export interface ApiResponse {
  status: number;
  headers: Headers;
  text: string;
  json: unknown;
}

/** Options of api(). `body` is sent as JSON unless `raw` is given (sent as-is with `contentType`). */
export interface ApiRequest {
  method?: string;
  token?: string;
  body?: unknown;
  raw?: string | Buffer;
  contentType?: string;
  headers?: Record<string, string>;
}

/** Sends one request with fetch (the real HTTP client) and reads the whole body. */
export async function api(base: string, path: string, req: ApiRequest = {}): Promise<ApiResponse> {
  const headers: Record<string, string> = { ...req.headers };
  if (req.token) headers.authorization = `Bearer ${req.token}`;
  let body: string | Buffer | undefined;
  if (req.raw !== undefined) {
    body = req.raw;
    if (req.contentType) headers['content-type'] = req.contentType;
  } else if (req.body !== undefined) {
    body = JSON.stringify(req.body);
    headers['content-type'] = req.contentType ?? 'application/json';
  }
  const res = await fetch(`${base}${path}`, {
    method: req.method ?? (body === undefined ? 'GET' : 'POST'),
    headers,
    body,
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text) as unknown;
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

/** Text that looks like a leaked stack trace or internal path. */
const STACK_LIKE = /(\n\s+at |\bat [\w.<>]+ \(|node_modules|\.ts:\d+|\.js:\d+:\d+|"stack")/;

/**
 * Asserts the API's one error shape `{ error: { code, message, field? } }` (nothing else, no stack trace),
 * the status, and optionally the code and field. Returns the error object.
 */
export function assertError(
  res: ApiResponse,
  status: number,
  code?: string,
  field?: string,
): { code: string; message: string; field?: string } {
  const where = `${res.status} ${res.text.slice(0, 300)}`;
  assert.equal(res.status, status, `expected HTTP ${status}, got ${where}`);
  assert.match(res.headers.get('content-type') ?? '', /^application\/json/, `error body must be JSON: ${where}`);
  const body = res.json as { error?: Record<string, unknown> } | undefined;
  assert.ok(body && typeof body === 'object', `error body is not JSON: ${where}`);
  assert.deepEqual(Object.keys(body), ['error'], `error body has keys other than "error": ${where}`);
  const err = body.error!;
  assert.ok(err && typeof err === 'object', `error.error is not an object: ${where}`);
  for (const key of Object.keys(err))
    assert.ok(['code', 'message', 'field'].includes(key), `unexpected key error.${key}: ${where}`);
  assert.equal(typeof err.code, 'string', `error.code must be a string: ${where}`);
  assert.equal(typeof err.message, 'string', `error.message must be a string: ${where}`);
  assert.ok((err.message as string).length > 0, `error.message is empty: ${where}`);
  if ('field' in err) assert.equal(typeof err.field, 'string', `error.field must be a string: ${where}`);
  assert.doesNotMatch(res.text, STACK_LIKE, `error body leaks a stack trace or path: ${where}`);
  if (code !== undefined) assert.equal(err.code, code, `error.code: ${where}`);
  if (field !== undefined) assert.equal(err.field, field, `error.field: ${where}`);
  return err as { code: string; message: string; field?: string };
}

/** One Server-Sent Events frame as parsed by a client. */
export interface SseFrame {
  id?: string;
  event: string;
  data: string;
}

/** An open SSE connection that records frames and comments as they arrive. */
export interface SseStream {
  status: number;
  headers: IncomingMessage['headers'];
  frames: SseFrame[];
  comments: string[];
  /** Resolves once `pred` holds over the frames/comments seen so far (polls on every chunk). */
  waitFor(pred: (s: SseStream) => boolean, timeoutMs?: number, what?: string): Promise<void>;
  /** True once the server ended the stream. */
  ended: boolean;
  close(): void;
}

/** Opens `GET path` as an event stream with node:http and parses frames per the SSE spec (id, event, data, comments). */
export function openSse(base: string, path: string, headers: Record<string, string> = {}): Promise<SseStream> {
  return new Promise((resolve, reject) => {
    const url = new URL(path, base);
    const req = httpRequest(url, { headers: { accept: 'text/event-stream', ...headers } });
    req.on('error', reject);
    req.on('response', (res) => {
      let buf = '';
      const waiters = new Set<() => void>();
      const stream: SseStream = {
        status: res.statusCode ?? 0,
        headers: res.headers,
        frames: [],
        comments: [],
        ended: false,
        close: () => {
          req.destroy();
          res.destroy();
        },
        waitFor: (pred, timeoutMs = 5000, what = 'condition') =>
          new Promise<void>((ok, fail) => {
            if (pred(stream)) return ok();
            const check = () => {
              if (pred(stream)) {
                clearTimeout(timer);
                waiters.delete(check);
                ok();
              }
            };
            const timer = setTimeout(() => {
              waiters.delete(check);
              fail(
                new Error(
                  `SSE: timed out after ${timeoutMs} ms waiting for ${what}; frames: ${JSON.stringify(stream.frames.map((f) => [f.id, f.event]))}`,
                ),
              );
            }, timeoutMs);
            waiters.add(check);
          }),
      };
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buf += chunk.replace(/\r\n?/g, '\n');
        let at: number;
        while ((at = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, at);
          buf = buf.slice(at + 2);
          const frame: SseFrame = { event: 'message', data: '' };
          const data: string[] = [];
          let isFrame = false;
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) {
              stream.comments.push(line.slice(1).trim());
              continue;
            }
            const colon = line.indexOf(':');
            const key = colon < 0 ? line : line.slice(0, colon);
            const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
            if (key === 'id') frame.id = value;
            else if (key === 'event') frame.event = value;
            else if (key === 'data') data.push(value);
            else continue; // retry: and unknown fields are not events
            isFrame = true;
          }
          frame.data = data.join('\n');
          if (isFrame && (data.length > 0 || frame.id !== undefined)) stream.frames.push(frame);
        }
        for (const w of [...waiters]) w();
      });
      res.on('close', () => {
        stream.ended = true;
        for (const w of [...waiters]) w();
      });
      res.on('error', () => {});
      resolve(stream);
    });
    req.end();
  });
}

/** The result of running curl. */
export interface CurlResult {
  status: number;
  headers: string;
  body: string;
}

/** Runs curl (the real client, for raw requests fetch will not make) and returns status, raw headers and body. */
export function curl(args: string[], timeoutMs = 15_000): Promise<CurlResult> {
  return new Promise((resolve, reject) => {
    execFile(
      'curl',
      ['-sS', '-D', '-', '--max-time', String(Math.ceil(timeoutMs / 1000)), ...args],
      { maxBuffer: 64 * 1024 * 1024, encoding: 'utf8' },
      (err, stdout, stderr) => {
        if (err) return reject(new Error(`curl ${args.join(' ')} failed: ${stderr || err.message}`));
        // With -D - the header blocks (possibly several, e.g. 100 Continue) come first, then the body.
        let rest = stdout;
        let headers = '';
        let status = 0;
        while (/^HTTP\/[\d.]+ \d{3}/.test(rest)) {
          const end = rest.indexOf('\r\n\r\n');
          headers = end >= 0 ? rest.slice(0, end) : rest;
          status = Number(/^HTTP\/[\d.]+ (\d{3})/.exec(headers)![1]);
          rest = end >= 0 ? rest.slice(end + 4) : '';
        }
        resolve({ status, headers, body: rest });
      },
    );
  });
}

/** Turns a curl result into an ApiResponse for assertError. */
export function curlResponse(r: CurlResult): ApiResponse {
  const headers = new Headers();
  for (const line of r.headers.split('\r\n').slice(1)) {
    const i = line.indexOf(':');
    if (i > 0) headers.append(line.slice(0, i).trim(), line.slice(i + 1).trim());
  }
  let json: unknown;
  try {
    json = JSON.parse(r.body) as unknown;
  } catch {
    json = undefined;
  }
  return { status: r.status, headers, text: r.body, json };
}

/** Runs `fn` over `items` with at most `limit` in flight; results keep the input order. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, i: number) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/** Polls `fn` until it returns a truthy value or the deadline passes. */
export async function until<T>(
  fn: () => Promise<T | undefined | null | false>,
  timeoutMs: number,
  what: string,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
