/** Security headers, CORS (closed by default, open to allow-listed origins) and /metrics over real HTTP. */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { login, startCore, type TestCore } from '../../helpers/core.js';
import { api, curl, curlResponse, openSse } from '../../helpers/http.js';

const ALLOWED = 'https://ops.example.com';
const FOREIGN = 'https://evil.example.net';

let tc: TestCore;
let admin: string;
before(async () => {
  tc = await startCore(null);
  admin = (await login(tc.url)).accessToken;
});
after(() => tc?.close());

function assertSecurityHeaders(h: Headers, where: string): void {
  const csp = h.get('content-security-policy') ?? '';
  assert.match(csp, /default-src 'self'/, `${where}: CSP default-src`);
  assert.match(csp, /script-src 'self'(;|$)/, `${where}: CSP script-src 'self' only`);
  assert.match(csp, /frame-ancestors 'none'/, `${where}: CSP frame-ancestors`);
  assert.equal(h.get('x-content-type-options'), 'nosniff', `${where}: X-Content-Type-Options`);
  assert.match(h.get('x-frame-options') ?? '', /^(DENY|SAMEORIGIN)$/, `${where}: X-Frame-Options`);
  assert.ok(h.get('referrer-policy'), `${where}: Referrer-Policy`);
  assert.equal(h.get('x-powered-by'), null, `${where}: X-Powered-By must not be sent`);
}

test('security headers on public, authenticated and error responses', async () => {
  assertSecurityHeaders((await api(tc.url, '/health')).headers, 'GET /health');
  assertSecurityHeaders((await api(tc.url, '/api/v1/node', { token: admin })).headers, 'GET /api/v1/node');
  assertSecurityHeaders((await api(tc.url, '/api/v1/node')).headers, '401');
  assertSecurityHeaders((await api(tc.url, '/api/v1/nope', { token: admin })).headers, '404');
  assertSecurityHeaders((await api(tc.url, '/api/docs', { token: admin })).headers, 'Swagger UI');
});

test('served over plain HTTP (a LAN appliance), the CSP does not tell browsers to upgrade requests to https', async () => {
  // upgrade-insecure-requests makes a browser on http://<lan-ip>:8080 fetch the UI's own /assets over https, which
  // this server does not speak: the UI loads blank (localhost is exempt, so it only shows up from other machines).
  const csp = (await api(tc.url, '/health')).headers.get('content-security-policy') ?? '';
  assert.doesNotMatch(csp, /upgrade-insecure-requests/);
});

test('CORS is closed by default: no Access-Control-Allow-Origin for a foreign origin, simple or preflight', async () => {
  const simple = await api(tc.url, '/api/v1/node', { token: admin, headers: { origin: FOREIGN } });
  assert.equal(simple.status, 200);
  assert.equal(simple.headers.get('access-control-allow-origin'), null);
  assert.equal(simple.headers.get('access-control-allow-credentials'), null);
  const pre = curlResponse(
    await curl([
      '-X',
      'OPTIONS',
      '-H',
      `Origin: ${FOREIGN}`,
      '-H',
      'Access-Control-Request-Method: PATCH',
      '-H',
      'Access-Control-Request-Headers: authorization,content-type',
      `${tc.url}/api/v1/config`,
    ]),
  );
  assert.equal(
    pre.headers.get('access-control-allow-origin'),
    null,
    `preflight answered ${pre.status} with CORS headers`,
  );
  assert.equal(pre.headers.get('access-control-allow-methods'), null);
});

test('CORS opens for an allow-listed origin (api.corsOrigins) and only for it', async (t) => {
  const open = await startCore(t, { flags: { 'api.corsOrigins': ALLOWED } });
  const token = (await login(open.url)).accessToken;
  const ok = await api(open.url, '/api/v1/node', { token, headers: { origin: ALLOWED } });
  assert.equal(ok.status, 200);
  assert.equal(ok.headers.get('access-control-allow-origin'), ALLOWED);
  assert.equal(ok.headers.get('access-control-allow-credentials'), 'true');
  assert.match(ok.headers.get('vary') ?? '', /origin/i);

  const foreign = await api(open.url, '/api/v1/node', { token, headers: { origin: FOREIGN } });
  assert.equal(foreign.headers.get('access-control-allow-origin'), null);

  // A browser preflight carries no credentials: it must be answered (2xx) with the CORS headers, not 401.
  const pre = curlResponse(
    await curl([
      '-X',
      'OPTIONS',
      '-H',
      `Origin: ${ALLOWED}`,
      '-H',
      'Access-Control-Request-Method: PATCH',
      '-H',
      'Access-Control-Request-Headers: authorization,content-type',
      `${open.url}/api/v1/config`,
    ]),
  );
  assert.ok(pre.status >= 200 && pre.status < 300, `preflight: ${pre.status} ${pre.text}`);
  assert.equal(pre.headers.get('access-control-allow-origin'), ALLOWED);
  assert.match(pre.headers.get('access-control-allow-methods') ?? '', /PATCH/);
  const foreignPre = curlResponse(
    await curl([
      '-X',
      'OPTIONS',
      '-H',
      `Origin: ${FOREIGN}`,
      '-H',
      'Access-Control-Request-Method: PATCH',
      `${open.url}/api/v1/config`,
    ]),
  );
  assert.equal(foreignPre.headers.get('access-control-allow-origin'), null);
});

test('the SSE stream carries the CORS headers for an allow-listed origin (a cross-origin UI must get events)', async (t) => {
  const open = await startCore(t, { flags: { 'api.corsOrigins': ALLOWED } });
  const token = (await login(open.url)).accessToken;
  const sse = await openSse(open.url, '/api/v1/events', { authorization: `Bearer ${token}`, origin: ALLOWED });
  t.after(() => sse.close());
  assert.equal(sse.status, 200);
  assert.equal(
    sse.headers['access-control-allow-origin'],
    ALLOWED,
    `SSE response headers: ${JSON.stringify(sse.headers)}`,
  );
  assert.equal(sse.headers['access-control-allow-credentials'], 'true');
});

test('/metrics is Prometheus text with cupola_ process metrics and cupola_sse_clients', async () => {
  const res = await api(tc.url, '/metrics', { token: admin });
  assert.equal(res.status, 200, res.text);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  for (const name of [
    'cupola_process_cpu_user_seconds_total',
    'cupola_process_resident_memory_bytes',
    'cupola_process_start_time_seconds',
    'cupola_nodejs_eventloop_lag_seconds',
    'cupola_nodejs_heap_size_used_bytes',
    'cupola_sse_clients',
    'cupola_events_published',
    'cupola_http_requests_total',
  ]) {
    assert.match(res.text, new RegExp(`^# TYPE ${name} `, 'm'), `${name} is not exposed`);
  }
  assert.match(res.text, /^cupola_sse_clients \d+$/m);
  assert.match(res.text, /^cupola_http_requests_total\{status="2xx"\} \d+$/m);
  // Every sample line is `name{labels} value`.
  for (const line of res.text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    assert.match(line, /^cupola_[a-zA-Z0-9_]+(\{[^}]*\})? [-+0-9.eE]+|NaN|[+-]Inf$/, `bad sample line: ${line}`);
  }
});

test('an API token may scrape /metrics (what a Prometheus job would use)', async () => {
  const created = await api(tc.url, '/api/v1/tokens', { token: admin, body: { name: 'prometheus' } });
  assert.equal(created.status, 201);
  const secret = (created.json as { secret: string }).secret;
  const res = await api(tc.url, '/metrics', { token: secret });
  assert.equal(res.status, 200);
  assert.match(res.text, /cupola_sse_clients/);
});
