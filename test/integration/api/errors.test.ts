/** Every API error has the shape `{ error: { code, message, field? } }`, the right status, and no stack trace. */
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { after, before, test } from 'node:test';
import { login, startCore, type TestCore } from '../../helpers/core.js';
import { api, assertError, curl, curlResponse, type ApiResponse } from '../../helpers/http.js';

let tc: TestCore;
let admin: string;
before(async () => {
  tc = await startCore(null, { flags: { 'auth.loginAttemptsPerMinute': '1000' } });
  admin = (await login(tc.url)).accessToken;
});
after(() => tc?.close());

const LOGIN = '/api/v1/auth/login';

test('400 invalid_json for a malformed JSON body (public and authenticated routes)', async () => {
  for (const raw of ['{"password":', '{password: "x"}', 'null,', '{"a":1}}']) {
    assertError(
      await api(tc.url, LOGIN, { method: 'POST', raw, contentType: 'application/json' }),
      400,
      'invalid_json',
    );
    assertError(
      await api(tc.url, '/api/v1/tokens', { method: 'POST', raw, contentType: 'application/json', token: admin }),
      400,
      'invalid_json',
    );
  }
  // The same through curl, the real command-line client.
  const r = await curl([
    '-X',
    'POST',
    '-H',
    'content-type: application/json',
    '--data-binary',
    '{"password":',
    `${tc.url}${LOGIN}`,
  ]);
  assertError(curlResponse(r), 400, 'invalid_json');
});

test('400 invalid_request naming the field for a wrong type or a missing field', async () => {
  assertError(await api(tc.url, LOGIN, { body: { password: 5 } }), 400, 'invalid_request', 'password');
  assertError(await api(tc.url, LOGIN, { body: { password: '' } }), 400, 'invalid_request', 'password');
  assertError(await api(tc.url, LOGIN, { body: {} }), 400, 'invalid_request', 'password');
  assertError(
    await api(tc.url, '/api/v1/auth/refresh', { body: { refreshToken: ['x'] } }),
    400,
    'invalid_request',
    'refreshToken',
  );
  assertError(
    await api(tc.url, '/api/v1/auth/password', {
      method: 'PUT',
      token: admin,
      body: { currentPassword: tc.password, newPassword: 'short' },
    }),
    400,
    'invalid_request',
    'newPassword',
  );
  const err = assertError(await api(tc.url, LOGIN, { body: { password: 5 } }), 400);
  assert.match(err.message, /password/);
});

test('404 not_found for an unknown route and an unknown method', async () => {
  assertError(await api(tc.url, '/api/v1/nope', { token: admin }), 404, 'not_found');
  assertError(await api(tc.url, '/api/v2/node', { token: admin }), 404, 'not_found');
  assertError(await api(tc.url, '/api/v1/node', { method: 'DELETE', token: admin }), 404, 'not_found');
  assertError(await api(tc.url, '/nope', { token: admin }), 404, 'not_found');
});

/**
 * POSTs `size` bytes with node:http and resolves with the first response, even one that arrives while the body is
 * still being sent (the server answers 413 early and closes; a write error after the response is expected).
 */
function postLarge(
  base: string,
  path: string,
  size: number,
  headers: Record<string, string>,
  chunked = false,
): Promise<ApiResponse> {
  return new Promise((resolve, reject) => {
    const body = Buffer.alloc(size, 0x61);
    body.write('{"password":"', 0);
    body.write('"}', size - 2);
    const req = httpRequest(new URL(path, base), {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(chunked ? {} : { 'content-length': String(size) }),
        ...headers,
      },
    });
    let answered = false;
    req.on('response', (res) => {
      answered = true;
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => {
        const h = new Headers();
        for (const [k, v] of Object.entries(res.headers)) if (typeof v === 'string') h.set(k, v);
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: h, text, json });
      });
      res.on('error', () => {});
    });
    req.on('error', (err) => {
      if (!answered) reject(new Error(`no response before the connection failed: ${err.message}`));
    });
    // Send in 64 KiB pieces so that an early answer can arrive before the body is complete.
    let at = 0;
    const pump = () => {
      while (at < size) {
        const piece = body.subarray(at, at + 65536);
        at += piece.length;
        if (!req.write(piece)) return void req.once('drain', pump);
      }
      req.end();
    };
    pump();
  });
}

test('413 body_too_large for a 10 MB body (with Content-Length, and chunked)', async () => {
  const size = 10 * 1024 * 1024;
  assertError(await postLarge(tc.url, LOGIN, size, {}), 413, 'body_too_large');
  assertError(
    await postLarge(tc.url, '/api/v1/tokens', size, { authorization: `Bearer ${admin}` }),
    413,
    'body_too_large',
  );
  assertError(await postLarge(tc.url, LOGIN, size, {}, true), 413, 'body_too_large');
  assert.equal((await api(tc.url, '/health')).status, 200);
});

test('415 unsupported_media_type for a body that is not JSON (text/plain, form, xml)', async () => {
  const cases: [string, string][] = [
    ['text/plain', '{"password":"x"}'],
    ['application/x-www-form-urlencoded', 'password=x'],
    ['application/xml', '<password>x</password>'],
  ];
  for (const [contentType, raw] of cases) {
    assertError(await api(tc.url, LOGIN, { method: 'POST', raw, contentType }), 415, 'unsupported_media_type');
  }
  const r = await curl(['-X', 'POST', '-H', 'content-type: text/plain', '--data-binary', 'hello', `${tc.url}${LOGIN}`]);
  assertError(curlResponse(r), 415, 'unsupported_media_type');
});

test('429 rate_limited after too many login attempts (default 10 per minute per address)', async (t) => {
  const own = await startCore(t);
  const statuses: number[] = [];
  for (let i = 0; i < 12; i++) {
    const res = await api(own.url, LOGIN, { body: { password: `wrong-${i}-password` } });
    statuses.push(res.status);
    if (res.status === 429) assertError(res, 429, 'rate_limited');
    else assertError(res, 401, 'invalid_credentials');
  }
  assert.deepEqual(statuses, [...Array(10).fill(401), 429, 429]);
  // Even the right password is refused until the window passes; other routes are unaffected.
  assertError(await api(own.url, LOGIN, { body: { password: own.password } }), 429, 'rate_limited');
  assert.equal((await api(own.url, '/health')).status, 200);
});

test('a malformed session cookie → 401 invalid_token, not a 500', async () => {
  assertError(
    await api(tc.url, '/api/v1/node', { headers: { cookie: 'cupola_access=%E0%A4%A' } }),
    401,
    'invalid_token',
  );
  assertError(await api(tc.url, '/api/v1/node', { headers: { cookie: 'other=1; cupola_access=' } }), 401);
});

test('a malformed HTTP request (raw bytes on a socket) → 400 with the error shape', async () => {
  const { hostname: host, port } = new URL(tc.url);
  const raw = await new Promise<string>((resolve, reject) => {
    const sock = connect({ host, port: Number(port) }, () =>
      sock.write('GET /health HTTP/1.1\r\nHost: x\r\nBad Header Line\r\n\r\n'),
    );
    let out = '';
    sock.setEncoding('utf8');
    sock.on('data', (c: string) => (out += c));
    sock.on('end', () => resolve(out));
    sock.on('error', reject);
    sock.setTimeout(5000, () => {
      sock.destroy();
      reject(new Error(`no answer; got ${out}`));
    });
  });
  const [head = '', body = ''] = raw.split('\r\n\r\n');
  const headers = new Headers();
  for (const line of head.split('\r\n').slice(1)) {
    const i = line.indexOf(':');
    if (i > 0) headers.append(line.slice(0, i), line.slice(i + 1).trim());
  }
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    json = undefined;
  }
  assertError({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1]), headers, text: body, json }, 400);
  assert.equal((await api(tc.url, '/health')).status, 200);
});

test('no error body anywhere carries a stack trace or an internal path', async () => {
  const samples = await Promise.all([
    api(tc.url, '/api/v1/config', { method: 'PATCH', token: admin, raw: '[1,2', contentType: 'application/json' }),
    api(tc.url, '/api/v1/config', { method: 'PATCH', token: admin, body: { node: { site: 'NOT A SLUG' } } }),
    api(tc.url, '/api/v1/config', { method: 'PATCH', token: admin, body: { api: { port: 'abc' } } }),
    api(tc.url, '/api/v1/config', { method: 'PATCH', token: admin, body: ['not', 'an', 'object'] }),
    api(tc.url, '/api/v1/config', { method: 'PATCH', token: admin, body: { nope: { deeper: 1 } } }),
    api(tc.url, '/api/v1/tokens/zzz', { method: 'DELETE', token: admin }),
    api(tc.url, '/api/v1/events?lastEventId=abc', { token: 'eyJhbGciOiJIUzI1NiJ9.e30.x' }),
    api(tc.url, '/api/v1/node', { headers: { authorization: 'Basic dXNlcjpwYXNz' } }),
    api(tc.url, '/api/v1/auth/refresh', { body: { refreshToken: 'cpr_' + 'x'.repeat(600) } }),
    api(tc.url, '/api/v1/auth/logout', { token: admin, raw: '{', contentType: 'application/json' }),
  ]);
  for (const res of samples) {
    assert.ok(res.status >= 400 && res.status < 500, `expected a 4xx, got ${res.status} ${res.text}`);
    assertError(res, res.status);
  }
});
