/** Long-lived API tokens over real HTTP: create, list without secrets, use, last_used_at, revoke, admin-only routes. */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { ApiTokenInfo } from '../../../app/defs/api.js';
import { dbQuery, login, startCore, type TestCore } from '../../helpers/core.js';
import { api, assertError } from '../../helpers/http.js';

let tc: TestCore;
let admin: string;
before(async () => {
  tc = await startCore(null);
  admin = (await login(tc.url)).accessToken;
});
after(() => tc?.close());

interface Created {
  token: ApiTokenInfo;
  secret: string;
}

async function create(name: string): Promise<Created> {
  const res = await api(tc.url, '/api/v1/tokens', { token: admin, body: { name } });
  assert.equal(res.status, 201, res.text);
  return res.json as Created;
}

async function list(): Promise<{ tokens: ApiTokenInfo[]; text: string }> {
  const res = await api(tc.url, '/api/v1/tokens', { token: admin });
  assert.equal(res.status, 200, res.text);
  return { tokens: (res.json as { tokens: ApiTokenInfo[] }).tokens, text: res.text };
}

function dbRow(id: string): Record<string, unknown> | undefined {
  return dbQuery<Record<string, unknown>>(tc.dataDir, 'SELECT * FROM api_tokens WHERE id = ?', id)[0];
}

test('create returns the secret once; the list never shows secrets or hashes', async () => {
  const a = await create('peer-a');
  const b = await create('script-b');
  assert.match(a.secret, /^cpt_[0-9a-f]{12}_[\w-]{20,}$/);
  assert.match(a.token.id, /^[0-9a-f]{12}$/);
  assert.equal(a.token.name, 'peer-a');
  assert.equal(a.token.lastUsedAt, null);
  assert.equal(a.token.revokedAt, null);
  assert.ok(a.secret.startsWith(a.token.prefix), 'the prefix identifies the token');
  assert.ok(a.token.prefix.length < a.secret.length - 20, 'the prefix is not (most of) the secret');

  const { tokens, text } = await list();
  const ids = tokens.map((x) => x.id);
  assert.ok(ids.includes(a.token.id) && ids.includes(b.token.id));
  for (const secret of [a.secret, b.secret]) assert.ok(!text.includes(secret), 'a secret appears in the token list');
  for (const t of tokens) {
    assert.deepEqual(Object.keys(t).sort(), ['createdAt', 'id', 'lastUsedAt', 'name', 'prefix', 'revokedAt']);
  }
  // Stored as a hash only.
  const row = dbRow(a.token.id)!;
  assert.ok(row, 'token row missing');
  assert.ok(!Object.values(row).includes(a.secret), 'the secret is stored in clear');
});

test('an API token authenticates, and its use is recorded in last_used_at', async () => {
  const { token, secret } = await create('peer-use');
  assert.equal(dbRow(token.id)!.last_used_at, null);
  const before = Date.now();
  const res = await api(tc.url, '/api/v1/node', { token: secret });
  assert.equal(res.status, 200, res.text);
  assert.equal((await api(tc.url, '/api/v1/children', { token: secret })).status, 200);
  const used = dbRow(token.id)!.last_used_at;
  assert.equal(typeof used, 'string', 'last_used_at was not recorded');
  assert.ok(
    Date.parse(used as string) >= before - 1000 && Date.parse(used as string) <= Date.now() + 1000,
    `last_used_at ${String(used)} is not now`,
  );
  const listed = (await list()).tokens.find((x) => x.id === token.id)!;
  assert.equal(listed.lastUsedAt, used);
});

test('an API token gets 403 on admin-only routes (tokens, password, config changes)', async () => {
  const { secret, token } = await create('peer-limited');
  const other = await create('victim');
  const attempts = [
    api(tc.url, '/api/v1/tokens', { token: secret, body: { name: 'escalate' } }),
    api(tc.url, `/api/v1/tokens/${other.token.id}`, { method: 'DELETE', token: secret }),
    api(tc.url, '/api/v1/auth/password', {
      method: 'PUT',
      token: secret,
      body: { currentPassword: 'whatever1', newPassword: 'whatever-new' },
    }),
    api(tc.url, '/api/v1/config', { method: 'PATCH', token: secret, body: { node: { site: 'hijacked' } } }),
  ];
  for (const res of await Promise.all(attempts)) assertError(res, 403, 'forbidden');
  // Nothing happened: no new token, the victim is still active, the site is unchanged.
  const { tokens } = await list();
  assert.ok(!tokens.some((x) => x.name === 'escalate'));
  assert.equal(tokens.find((x) => x.id === other.token.id)!.revokedAt, null);
  assert.notEqual(tc.core.config.node.site, 'hijacked');
  assert.ok(tokens.some((x) => x.id === token.id));
});

test('listing tokens is admin-only too: an API token gets 403 on GET /api/v1/tokens', async () => {
  const { secret } = await create('peer-lister');
  assertError(await api(tc.url, '/api/v1/tokens', { token: secret }), 403, 'forbidden');
});

test('revoke: the token is refused afterwards, listed as revoked, and a second revoke is 404', async () => {
  const { token, secret } = await create('peer-revoke');
  assert.equal((await api(tc.url, '/api/v1/node', { token: secret })).status, 200);
  const del = await api(tc.url, `/api/v1/tokens/${token.id}`, { method: 'DELETE', token: admin });
  assert.equal(del.status, 204, del.text);
  assertError(await api(tc.url, '/api/v1/node', { token: secret }), 401, 'invalid_token');
  const listed = (await list()).tokens.find((x) => x.id === token.id)!;
  assert.equal(typeof listed.revokedAt, 'string');
  assertError(
    await api(tc.url, `/api/v1/tokens/${token.id}`, { method: 'DELETE', token: admin }),
    404,
    'not_found',
    'id',
  );
  assertError(
    await api(tc.url, '/api/v1/tokens/not-an-id', { method: 'DELETE', token: admin }),
    400,
    'invalid_request',
    'id',
  );
});

test('token names are validated (field named) and nothing is created on a rejected request', async () => {
  const before = (await list()).tokens.length;
  assertError(
    await api(tc.url, '/api/v1/tokens', { token: admin, body: { name: '' } }),
    400,
    'invalid_request',
    'name',
  );
  assertError(
    await api(tc.url, '/api/v1/tokens', { token: admin, body: { name: 'x'.repeat(65) } }),
    400,
    'invalid_request',
    'name',
  );
  assertError(
    await api(tc.url, '/api/v1/tokens', { token: admin, body: { name: 42 } }),
    400,
    'invalid_request',
    'name',
  );
  assertError(await api(tc.url, '/api/v1/tokens', { token: admin, body: {} }), 400, 'invalid_request', 'name');
  assert.equal((await list()).tokens.length, before);
});
