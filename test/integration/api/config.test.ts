/** /api/v1/config over real HTTP: read (redacted), schema, PATCH applied live or by restarting only the API, persisted, refused cleanly. */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { parse } from 'yaml';
import { createCore } from '../../../app/core.js';
import { loadConfig } from '../../../app/config/load.js';
import {
  ADMIN_PASSWORD,
  MEDIA_ON_FREE_PORTS,
  freePort,
  login,
  quietLogger,
  startCore,
  tempDir,
  type TestCore,
} from '../../helpers/core.js';
import { api, assertError, openSse, until } from '../../helpers/http.js';

type Json = Record<string, unknown>;

const readFile = (tc: TestCore) => (existsSync(tc.configFile) ? readFileSync(tc.configFile, 'utf8') : null);
const patch = (tc: TestCore, token: string, body: unknown) =>
  api(tc.url, '/api/v1/config', { method: 'PATCH', token, body });

test('api.port 0 picks a free port and core.url has the real one', async (t) => {
  const dataDir = tempDir(t);
  const core = createCore(
    loadConfig({
      env: {},
      flags: { dataDir, ...MEDIA_ON_FREE_PORTS, 'api.port': '0', 'auth.adminPassword': ADMIN_PASSWORD },
    }),
    {
      logger: quietLogger(),
      uiDir: null,
    },
  );
  t.after(() => core.stop());
  await core.start();
  const port = Number(new URL(core.url).port);
  assert.ok(port > 0, `core.url ${core.url}`);
  assert.equal((await api(core.url, '/health')).status, 200);
});

test('GET /api/v1/config: effective config with secrets redacted, pinned fields listed; the schema is JSON Schema', async (t) => {
  const tc = await startCore(t);
  const { accessToken } = await login(tc.url);
  const res = await api(tc.url, '/api/v1/config', { token: accessToken });
  assert.equal(res.status, 200);
  assert.ok(!res.text.includes(ADMIN_PASSWORD), 'the admin password is returned');
  const body = res.json as { config: Json; pinned: Record<string, string> };
  assert.equal((body.config.auth as Json).adminPassword, '[redacted]');
  assert.equal(body.pinned['api.port'], 'flag');
  assert.equal(body.pinned['auth.adminPassword'], 'flag');
  const schema = await api(tc.url, '/api/v1/config/schema', { token: accessToken });
  assert.equal(schema.status, 200);
  const props = (schema.json as { properties: Record<string, { properties: Record<string, unknown> }> }).properties;
  assert.ok(props.api?.properties.rateLimitPerMinute, 'api.rateLimitPerMinute in the schema');
});

test('PATCH api.rateLimitPerMinute → restarted: [api], persisted to cupola.yaml, still serving with the new limit', async (t) => {
  // A fixed port so that the restarted API comes back where clients expect it.
  const port = await freePort();
  const tc = await startCore(t, { flags: { 'api.port': String(port) } });
  const { accessToken } = await login(tc.url);
  const sse = await openSse(tc.url, '/api/v1/events', { authorization: `Bearer ${accessToken}` });
  t.after(() => sse.close());
  const res = await patch(tc, accessToken, { api: { rateLimitPerMinute: 1234 } });
  assert.equal(res.status, 200, res.text);
  assert.deepEqual(res.json, { changed: ['api.rateLimitPerMinute'], restarted: ['api'], restartRequired: [] });

  const saved = parse(readFile(tc) ?? '') as Json;
  assert.equal((saved.api as Json).rateLimitPerMinute, 1234, `cupola.yaml: ${readFile(tc)}`);
  assert.equal(tc.url, `http://127.0.0.1:${port}`);

  // The restarted API serves again on the same port, with the new limit in force.
  const after = await until(
    async () => {
      const r = await api(tc.url, '/api/v1/node', { token: accessToken });
      return r.status === 200 && r.headers.get('x-ratelimit-limit') === '1234' ? r : null;
    },
    5000,
    'the API to come back with x-ratelimit-limit 1234',
  );
  assert.equal(after.status, 200);
  assert.equal(tc.core.config.api.rateLimitPerMinute, 1234);
  await sse.waitFor((s) => s.ended, 3000, 'the old SSE stream to be closed by the API restart');
  assert.ok(
    sse.frames.some((f) => f.event === 'config.changed'),
    'config.changed was published before the restart',
  );
});

test('PATCH node.site → applied live (GET /api/v1/node shows it), nothing restarted, open streams stay open', async (t) => {
  const tc = await startCore(t);
  const { accessToken } = await login(tc.url);
  const sse = await openSse(tc.url, '/api/v1/events', { authorization: `Bearer ${accessToken}` });
  t.after(() => sse.close());
  const res = await patch(tc, accessToken, { node: { site: 'lab-2' } });
  assert.equal(res.status, 200, res.text);
  assert.deepEqual(res.json, { changed: ['node.site'], restarted: [], restartRequired: [] });
  const info = await api(tc.url, '/api/v1/node', { token: accessToken });
  assert.equal((info.json as { site: string }).site, 'lab-2');
  assert.equal(((parse(readFile(tc) ?? '') as Json).node as Json).site, 'lab-2');
  await sse.waitFor((s) => s.frames.some((f) => f.event === 'config.changed'), 3000, 'config.changed');
  const changed = JSON.parse(sse.frames.find((f) => f.event === 'config.changed')!.data) as { data: Json };
  assert.deepEqual(changed.data.changed, ['node.site']);
  await new Promise((r) => setTimeout(r, 200));
  assert.ok(!sse.ended, 'a live change must not drop SSE clients');

  // Dotted keys work too; a restart-only field is reported, not applied.
  const role = await patch(tc, accessToken, { 'node.role': 'slave' });
  assert.equal(role.status, 200, role.text);
  assert.deepEqual(role.json, { changed: ['node.role'], restarted: [], restartRequired: ['node.role'] });
  assert.equal(tc.core.config.node.role, 'all');
});

test('a change to a field pinned by a flag or the environment → 409 pinned_field; nothing persisted', async (t) => {
  const tc = await startCore(t, { env: { CUPOLA_NODE_SITE: 'from-env' }, fileValues: { node: { name: 'keep-me' } } });
  const { accessToken } = await login(tc.url);
  const before = readFile(tc);
  assertError(await patch(tc, accessToken, { node: { site: 'other' } }), 409, 'pinned_field', 'node.site');
  assertError(await patch(tc, accessToken, { api: { port: 9999 } }), 409, 'pinned_field', 'api.port');
  assertError(
    await patch(tc, accessToken, { auth: { adminPassword: 'another-password' } }),
    409,
    'pinned_field',
    'auth.adminPassword',
  );
  // A mixed patch is refused as a whole.
  assertError(
    await patch(tc, accessToken, { node: { name: 'changed', site: 'other' } }),
    409,
    'pinned_field',
    'node.site',
  );
  assert.equal(readFile(tc), before, 'cupola.yaml changed after a refused patch');
  assert.equal(tc.core.config.node.site, 'from-env');
  assert.equal(tc.core.config.node.name, 'keep-me');
});

test('an invalid value → 400 invalid_config naming the field; nothing persisted or applied', async (t) => {
  const tc = await startCore(t);
  const { accessToken } = await login(tc.url);
  const before = readFile(tc);
  const cases: [unknown, string][] = [
    [{ api: { rateLimitPerMinute: 5 } }, 'api.rateLimitPerMinute'],
    [{ api: { rateLimitPerMinute: 'lots' } }, 'api.rateLimitPerMinute'],
    [{ node: { site: 'Not A Slug!' } }, 'node.site'],
    [{ log: { level: 'chatty' } }, 'log.level'],
    [{ api: { corsOrigins: ['not a url'] } }, 'api.corsOrigins.0'],
    [{ api: { nope: 1 } }, 'api.nope'],
    [{ supervisor: { backoffInitialMs: -1 } }, 'supervisor.backoffInitialMs'],
  ];
  for (const [body, field] of cases) {
    const err = assertError(await patch(tc, accessToken, body), 400, 'invalid_config', field);
    assert.match(err.message, new RegExp(field.replace(/\./g, '\\.')));
  }
  // A valid field next to an invalid one: neither lands.
  assertError(
    await patch(tc, accessToken, { node: { site: 'fine' }, api: { rateLimitPerMinute: 1 } }),
    400,
    'invalid_config',
    'api.rateLimitPerMinute',
  );
  assert.equal(readFile(tc), before, 'cupola.yaml changed after a refused patch');
  assert.equal(tc.core.config.node.site, 'default');
  assert.equal(tc.core.config.api.rateLimitPerMinute, 6000);
  const info = await api(tc.url, '/api/v1/node', { token: accessToken });
  assert.equal((info.json as { site: string }).site, 'default');
});

test("PATCH keeps the operator's comments and other fields in cupola.yaml", async (t) => {
  const dataDir = tempDir(t);
  writeFileSync(join(dataDir, 'cupola.yaml'), '# site of the north cameras\nnode:\n  site: north # set by ops\n');
  const tc = await startCore(t, { dataDir });
  assert.equal(tc.core.config.node.site, 'north');
  const { accessToken } = await login(tc.url);
  const res = await patch(tc, accessToken, { log: { level: 'debug' } });
  assert.equal(res.status, 200, res.text);
  const text = readFile(tc) ?? '';
  assert.match(text, /# site of the north cameras/);
  assert.match(text, /site: north # set by ops/);
  assert.match(text, /level: debug/);
});

test('PATCH api.port (set in the file) → the API restarts on the new port', async (t) => {
  const tc = await startCore(t, { portInFile: true });
  const { accessToken } = await login(tc.url);
  const oldUrl = tc.url;
  const port = await freePort();
  const res = await patch(tc, accessToken, { api: { port } });
  assert.equal(res.status, 200, res.text);
  assert.deepEqual(res.json, { changed: ['api.port'], restarted: ['api'], restartRequired: [] });
  const newUrl = `http://127.0.0.1:${port}`;
  await until(async () => (await api(newUrl, '/health')).status === 200, 5000, `the API on ${newUrl}`);
  assert.equal(tc.url, newUrl);
  await assert.rejects(fetch(`${oldUrl}/health`), 'the old port is closed');
  assert.equal(((parse(readFile(tc) ?? '') as Json).api as Json).port, port);
});

test('PATCH api.port to a port that is taken → the node stays reachable (not left without an API)', async (t) => {
  const tc = await startCore(t, { portInFile: true });
  const { accessToken } = await login(tc.url);
  const blocker = createServer();
  await new Promise<void>((ok) => blocker.listen(0, '127.0.0.1', ok));
  t.after(() => new Promise<void>((ok) => blocker.close(() => ok())));
  const taken = (blocker.address() as AddressInfo).port;
  const before = readFile(tc);
  const res = await patch(tc, accessToken, { api: { port: taken } });
  t.diagnostic(`PATCH answered ${res.status} ${res.text}`);
  if (res.status >= 400) {
    assertError(res, res.status);
    assert.equal(readFile(tc), before, 'a refused change must not be persisted');
  }
  await new Promise((r) => setTimeout(r, 500));
  const health = await until(
    async () => (await api(tc.url, '/health')).status === 200,
    3000,
    `the API at ${tc.url}`,
  ).catch((e: Error) => e);
  assert.equal(health, true, `after PATCH api.port=${taken} (in use) the API is gone: ${String(health)}`);
});
