/** Authentication over real HTTP: which routes need a token, JWT validity and expiry, refresh rotation, logout. */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { decodeJwt, SignJWT } from 'jose';
import type { TokenPair } from '../../../app/defs/api.js';
import { dbQuery, login, startCore, tempDir, type TestCore } from '../../helpers/core.js';
import { api, assertError, openSse } from '../../helpers/http.js';

let tc: TestCore;
before(async () => {
  // Many logins in this file: lift the per-IP login limit (its 429 has its own test in errors.test.ts).
  tc = await startCore(null, { flags: { 'auth.loginAttemptsPerMinute': '1000' } });
});
after(() => tc?.close());

/** Reads the node's JWT signing key the way an attacker with the database would. */
function signingKey(dataDir: string): Uint8Array {
  const [row] = dbQuery<{ value: string }>(dataDir, "SELECT value FROM secrets WHERE name = 'jwt-key'");
  assert.ok(row, 'no jwt-key in the secrets table');
  return Buffer.from(row.value, 'base64url');
}

function forge(key: Uint8Array, fam: string, expEpochS: number): Promise<string> {
  return new SignJWT({ fam })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject('admin')
    .setIssuer('cupola')
    .setIssuedAt(expEpochS - 900)
    .setExpirationTime(expEpochS)
    .sign(key);
}

const node = (token: string) => api(tc.url, '/api/v1/node', { token });
const refresh = (refreshToken: string) => api(tc.url, '/api/v1/auth/refresh', { body: { refreshToken } });

describe('every route but /health needs a credential', () => {
  test('GET /health answers without a token', async () => {
    const res = await api(tc.url, '/health');
    assert.equal(res.status, 200);
    assert.deepEqual(res.json, { status: 'ok' });
  });

  test('each registered route (from the OpenAPI document, plus hidden ones) → 401 with the error shape', async () => {
    const { accessToken } = await login(tc.url);
    const doc = await api(tc.url, '/api/docs/json', { token: accessToken });
    assert.equal(doc.status, 200, doc.text);
    const paths = (doc.json as { paths: Record<string, Record<string, unknown>> }).paths;
    const routes: [string, string][] = [];
    for (const [path, ops] of Object.entries(paths)) {
      for (const method of Object.keys(ops))
        routes.push([method.toUpperCase(), path.replace(/\{id\}/g, '0123456789ab').replace(/\{[^}]+\}/g, 'x')]);
    }
    const documented = new Set(routes.map(([m, p]) => `${m} ${p.replace(/\/$/, '')}`));
    for (const must of [
      'GET /api/v1/node',
      'GET /api/v1/children',
      'GET /api/v1/config',
      'PATCH /api/v1/config',
      'GET /api/v1/config/schema',
      'GET /api/v1/events',
      'GET /api/v1/tokens',
      'POST /api/v1/tokens',
      'DELETE /api/v1/tokens/0123456789ab',
      'POST /api/v1/auth/logout',
      'PUT /api/v1/auth/password',
      'GET /ready',
    ]) {
      assert.ok(documented.has(must), `${must} is missing from the OpenAPI document: ${[...documented].join(', ')}`);
    }
    // Routes hidden from the document but served.
    routes.push(
      ['GET', '/metrics'],
      ['GET', '/ready'],
      ['GET', '/api/docs'],
      ['GET', '/api/docs/json'],
      ['GET', '/api/docs/yaml'],
      ['GET', '/api/docs/static/index.html'],
    );
    const publicRoutes = new Set(['GET /health', 'POST /api/v1/auth/login', 'POST /api/v1/auth/refresh']);
    let checked = 0;
    for (const [method, path] of routes) {
      if (publicRoutes.has(`${method} ${path}`)) continue;
      const body = ['POST', 'PUT', 'PATCH'].includes(method) ? {} : undefined;
      if (method === 'HEAD') {
        // A HEAD answer has no body (RFC 9110 9.3.2): the status and the JSON type of the GET's error are what it has.
        for (const token of [undefined, 'not-a-token']) {
          const res = await api(tc.url, path, { method, token });
          assert.equal(res.status, 401, `HEAD ${path} with ${token ?? 'no token'}`);
          assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
          assert.equal(res.text, '');
        }
        checked++;
        continue;
      }
      const none = await api(tc.url, path, { method, body });
      assertError(none, 401, 'unauthorized');
      const bogus = await api(tc.url, path, { method, body, token: 'not-a-token' });
      assertError(bogus, 401, 'invalid_token');
      checked++;
    }
    assert.ok(checked >= 15, `only ${checked} routes sampled`);
  });

  test('the SSE stream refuses an unauthenticated client before streaming', async () => {
    const sse = await openSse(tc.url, '/api/v1/events');
    try {
      assert.equal(sse.status, 401);
      assert.match(String(sse.headers['content-type']), /^application\/json/);
    } finally {
      sse.close();
    }
  });

  test('unknown API routes are 401 without a token and 404 with one', async (t) => {
    assertError(await api(tc.url, '/api/v1/no-such-thing'), 401, 'unauthorized');
    const { accessToken } = await login(tc.url);
    assertError(await api(tc.url, '/api/v1/no-such-thing', { token: accessToken }), 404, 'not_found');
    t.diagnostic('with the UI served, static files are public but /api/* and /metrics are not');
    const ui = tempDir(t);
    mkdirSync(ui, { recursive: true });
    writeFileSync(join(ui, 'index.html'), '<!doctype html><title>Cupola</title>');
    const withUi = await startCore(t, { uiDir: ui });
    const page = await api(withUi.url, '/');
    assert.equal(page.status, 200);
    assert.match(page.text, /<title>Cupola<\/title>/);
    assert.equal((await api(withUi.url, '/some/ui/route')).status, 200, 'UI fallback to index.html');
    assertError(await api(withUi.url, '/api/v1/no-such-thing'), 401, 'unauthorized');
    assertError(await api(withUi.url, '/metrics'), 401, 'unauthorized');
    assertError(await api(withUi.url, '/api/docs'), 401, 'unauthorized');
  });
});

describe('access tokens (JWT)', () => {
  test('a valid JWT works as a bearer token and as the session cookie set by login', async () => {
    const res = await api(tc.url, '/api/v1/auth/login', { body: { password: tc.password } });
    assert.equal(res.status, 200, res.text);
    const pair = res.json as TokenPair;
    assert.match(pair.accessToken, /^[\w-]+\.[\w-]+\.[\w-]+$/);
    assert.match(pair.refreshToken, /^cpr_/);
    assert.ok(Date.parse(pair.accessExpiresAt) > Date.now());
    const cookie = res.headers.get('set-cookie') ?? '';
    assert.match(cookie, /^cupola_access=[^;]+;/);
    assert.match(cookie, /HttpOnly/i);
    assert.match(cookie, /SameSite=Strict/i);
    const info = await node(pair.accessToken);
    assert.equal(info.status, 200, info.text);
    assert.equal((info.json as { name: string }).name.length > 0, true);
    const viaCookie = await api(tc.url, '/api/v1/node', { headers: { cookie: cookie.split(';')[0]! } });
    assert.equal(viaCookie.status, 200, viaCookie.text);
  });

  test('a wrong password → 401 invalid_credentials', async () => {
    assertError(
      await api(tc.url, '/api/v1/auth/login', { body: { password: 'wrong-password' } }),
      401,
      'invalid_credentials',
    );
  });

  test('a tampered JWT is refused (payload edited, signature edited, alg none, foreign key)', async () => {
    const { accessToken } = await login(tc.url);
    const [h, p, s] = accessToken.split('.') as [string, string, string];
    const claims = decodeJwt(accessToken);
    const edited = Buffer.from(JSON.stringify({ ...claims, exp: (claims.exp ?? 0) + 86_400 })).toString('base64url');
    const mid = Math.floor(s.length / 2);
    const flipped = s.slice(0, mid) + (s[mid] === 'A' ? 'B' : 'A') + s.slice(mid + 1);
    const none = `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${p}.`;
    const foreign = await forge(new Uint8Array(32).fill(7), String(claims.fam), Math.floor(Date.now() / 1000) + 600);
    for (const bad of [`${h}.${edited}.${s}`, `${h}.${p}.${flipped}`, none, foreign]) {
      assertError(await node(bad), 401, 'invalid_token');
    }
    assert.equal((await node(accessToken)).status, 200, 'the untouched token still works');
  });

  test('an expired JWT signed with the node key is refused (the same token unexpired is accepted)', async () => {
    const { accessToken } = await login(tc.url);
    const fam = decodeJwt(accessToken).fam;
    assert.equal(typeof fam, 'string');
    const key = signingKey(tc.dataDir);
    const now = Math.floor(Date.now() / 1000);
    const fresh = await forge(key, fam as string, now + 600);
    assert.equal(
      (await node(fresh)).status,
      200,
      'control: a token forged with the node key and a live family is accepted',
    );
    assertError(await node(await forge(key, fam as string, now - 60)), 401, 'invalid_token');
    assertError(await node(await forge(key, fam as string, now - 1)), 401, 'invalid_token');
  });
});

describe('refresh tokens', () => {
  test('rotation: the new pair works, the old refresh token is refused, reuse revokes the whole family', async () => {
    const first = await login(tc.url);
    const other = await login(tc.url);
    const r1 = await refresh(first.refreshToken);
    assert.equal(r1.status, 200, r1.text);
    const second = r1.json as TokenPair;
    assert.notEqual(second.refreshToken, first.refreshToken);
    assert.notEqual(second.accessToken, first.accessToken);
    assert.equal(decodeJwt(second.accessToken).fam, decodeJwt(first.accessToken).fam, 'rotation stays in the family');
    assert.equal((await node(second.accessToken)).status, 200);

    // Reusing the rotated token: refused, and the family (both access tokens, the live refresh token) is revoked.
    assertError(await refresh(first.refreshToken), 401, 'refresh_reused', 'refreshToken');
    assertError(await node(second.accessToken), 401, 'invalid_token');
    assertError(await node(first.accessToken), 401, 'invalid_token');
    assertError(await refresh(second.refreshToken), 401, 'refresh_revoked', 'refreshToken');

    // Another login (another family) is untouched.
    assert.equal((await node(other.accessToken)).status, 200);
    assert.equal((await refresh(other.refreshToken)).status, 200);
  });

  test('the same refresh token sent 5 times at once: one rotation wins, the rest are reuse, and the family is revoked', async () => {
    const pair = await login(tc.url);
    const results = await Promise.all(Array.from({ length: 5 }, () => refresh(pair.refreshToken)));
    const ok = results.filter((r) => r.status === 200);
    assert.equal(ok.length, 1, `statuses: ${results.map((r) => r.status).join(', ')}`);
    for (const r of results.filter((x) => x.status !== 200)) {
      const err = assertError(r, 401);
      assert.ok(['refresh_reused', 'refresh_revoked'].includes(err.code), err.code);
    }
    assert.ok(
      results.some((r) => r.status === 401 && (r.json as { error: { code: string } }).error.code === 'refresh_reused'),
    );
    const winner = ok[0]!.json as TokenPair;
    assertError(await node(winner.accessToken), 401, 'invalid_token');
    assertError(await refresh(winner.refreshToken), 401, 'refresh_revoked');
  });

  test('unknown or malformed refresh tokens → 401 refresh_invalid', async () => {
    assertError(await refresh('cpr_doesnotexist'), 401, 'refresh_invalid', 'refreshToken');
    assertError(await refresh('garbage'), 401, 'refresh_invalid', 'refreshToken');
  });
});

describe('logout', () => {
  test('logout with the refresh token revokes the access token and the refresh token, and clears the cookie', async () => {
    const pair = await login(tc.url);
    const res = await api(tc.url, '/api/v1/auth/logout', {
      token: pair.accessToken,
      body: { refreshToken: pair.refreshToken },
    });
    assert.equal(res.status, 204, res.text);
    assert.match(res.headers.get('set-cookie') ?? '', /cupola_access=;.*Max-Age=0/);
    assertError(await node(pair.accessToken), 401, 'invalid_token');
    assertError(await refresh(pair.refreshToken), 401, 'refresh_revoked');
  });

  test('logout with only the bearer token (no body) revokes that login', async () => {
    const pair = await login(tc.url);
    const keep = await login(tc.url);
    const res = await api(tc.url, '/api/v1/auth/logout', { method: 'POST', token: pair.accessToken });
    assert.equal(res.status, 204, res.text);
    assertError(await node(pair.accessToken), 401, 'invalid_token');
    assertError(await refresh(pair.refreshToken), 401, 'refresh_revoked');
    assert.equal((await node(keep.accessToken)).status, 200, 'other logins stay valid');
  });
});

test('changing the password revokes every session; the new password works, the old one does not', async (t) => {
  const own = await startCore(t);
  const a = await login(own.url);
  const b = await login(own.url);
  assertError(
    await api(own.url, '/api/v1/auth/password', {
      method: 'PUT',
      token: a.accessToken,
      body: { currentPassword: 'not-it-at-all', newPassword: 'a-new-password-2' },
    }),
    401,
    'invalid_credentials',
    'currentPassword',
  );
  const res = await api(own.url, '/api/v1/auth/password', {
    method: 'PUT',
    token: a.accessToken,
    body: { currentPassword: own.password, newPassword: 'a-new-password-2' },
  });
  assert.equal(res.status, 204, res.text);
  for (const tok of [a.accessToken, b.accessToken]) assertError(await node2(own.url, tok), 401, 'invalid_token');
  assertError(
    await api(own.url, '/api/v1/auth/refresh', { body: { refreshToken: b.refreshToken } }),
    401,
    'refresh_revoked',
  );
  assertError(
    await api(own.url, '/api/v1/auth/login', { body: { password: own.password } }),
    401,
    'invalid_credentials',
  );
  await login(own.url, 'a-new-password-2');
});

function node2(base: string, token: string) {
  return api(base, '/api/v1/node', { token });
}
