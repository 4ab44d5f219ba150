/** The camera registry over real HTTP: keys shown once and stored hashed, credentials never returned, admin-only writes. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { hashKey } from '../../../app/cameras/registry.js';
import type { Camera } from '../../../app/defs/camera.js';
import type { NodeInfo } from '../../../app/defs/node.js';
import { dbQuery, login, startCore, type TestCore } from '../../helpers/core.js';
import { api, assertError } from '../../helpers/http.js';

let tc: TestCore;
let admin: string;
before(async () => {
  tc = await startCore(null);
  admin = (await login(tc.url)).accessToken;
});
after(() => tc?.close());

function row(id: string): Record<string, unknown> | undefined {
  return dbQuery<Record<string, unknown>>(tc.dataDir, 'SELECT * FROM cameras WHERE id = ?', id)[0];
}

test('a push camera gets a publish key once; only its hash is stored', async () => {
  const res = await api(tc.url, '/api/v1/cameras', {
    token: admin,
    body: { id: 'gate-1', name: 'Gate 1', site: 'north', source: { kind: 'rtmp-push' } },
  });
  assert.equal(res.status, 201, res.text);
  const { camera, grant } = res.json as { camera: Camera; grant: { publishKey: string; publishUrl: string } };
  assert.equal(camera.id, 'gate-1');
  assert.equal(camera.site, 'north');
  assert.equal(camera.enabled, true);
  assert.match(grant.publishKey, /^[\w-]{32}$/);
  const node = (await api(tc.url, '/api/v1/node', { token: admin })).json as NodeInfo;
  assert.equal(grant.publishUrl, `rtmp://127.0.0.1:${node.media!.rtmpPort}/live/gate-1?key=${grant.publishKey}`);
  const stored = row('gate-1')!;
  assert.equal(stored.key_hash, hashKey(grant.publishKey));
  const listed = await api(tc.url, '/api/v1/cameras', { token: admin });
  assert.equal(listed.status, 200);
  assert.doesNotMatch(listed.text, new RegExp(grant.publishKey));
  assert.doesNotMatch(listed.text, /key_hash|keyHash/);
  const log = readFileSync(join(tc.dataDir, 'cupola.db'));
  assert.equal(log.includes(Buffer.from(grant.publishKey)), false, 'the key itself is never written to the database');
});

test('rotating the key replaces the hash; the old key no longer matches', async () => {
  await api(tc.url, '/api/v1/cameras', {
    token: admin,
    body: { id: 'gate-2', name: 'Gate 2', source: { kind: 'rtmp-push' } },
  });
  const before = row('gate-2')!.key_hash;
  const res = await api(tc.url, '/api/v1/cameras/gate-2/rotate-key', { method: 'POST', token: admin });
  assert.equal(res.status, 200, res.text);
  const { publishKey } = res.json as { publishKey: string };
  const after = row('gate-2')!.key_hash;
  assert.notEqual(after, before);
  assert.equal(after, hashKey(publishKey));
});

test('pull credentials are split from the URL, stored, and never returned', async () => {
  const res = await api(tc.url, '/api/v1/cameras', {
    token: admin,
    body: {
      id: 'lobby',
      name: 'Lobby',
      source: { kind: 'rtsp-pull', url: 'rtsp://viewer:s3cr%40t@10.0.0.5:554/stream1' },
    },
  });
  assert.equal(res.status, 201, res.text);
  const { camera, grant } = res.json as { camera: Camera; grant: null };
  assert.equal(grant, null);
  assert.deepEqual(camera.source, {
    kind: 'rtsp-pull',
    url: 'rtsp://10.0.0.5:554/stream1',
    user: 'viewer',
    hasPassword: true,
  });
  assert.doesNotMatch(res.text, /s3cr/);
  assert.equal(row('lobby')!.source_password, 's3cr@t');
  const patched = await api(tc.url, '/api/v1/cameras/lobby', {
    method: 'PATCH',
    token: admin,
    body: { source: { kind: 'rtsp-pull', url: 'rtsp://10.0.0.6/stream2' } },
  });
  assert.equal(patched.status, 200, patched.text);
  assert.equal(row('lobby')!.source_password, 's3cr@t', 'credentials kept when only the URL changes');
  const rotate = await api(tc.url, '/api/v1/cameras/lobby/rotate-key', { method: 'POST', token: admin });
  assertError(rotate, 400, 'invalid_request');
});

test('bad input names the field and writes nothing', async () => {
  const cases: Array<[unknown, string]> = [
    [{ id: 'Bad Id', name: 'x', source: { kind: 'rtmp-push' } }, 'id'],
    [{ id: 'ok', name: '', source: { kind: 'rtmp-push' } }, 'name'],
    [{ id: 'ok', name: 'x', source: { kind: 'rtsp-pull', url: 'http://x/y' } }, 'source.url'],
    [{ id: 'ok', name: 'x', source: { kind: 'carrier-pigeon' } }, 'source.kind'],
  ];
  for (const [body, field] of cases) {
    const res = await api(tc.url, '/api/v1/cameras', { token: admin, body });
    assertError(res, 400, 'invalid_request', field);
  }
  assert.equal(row('ok'), undefined);
  await api(tc.url, '/api/v1/cameras', { token: admin, body: { id: 'dup', name: 'x', source: { kind: 'rtmp-push' } } });
  const again = await api(tc.url, '/api/v1/cameras', {
    token: admin,
    body: { id: 'dup', name: 'y', source: { kind: 'rtmp-push' } },
  });
  assertError(again, 409, 'exists', 'id');
  assert.equal(row('dup')!.name, 'x');
  assertError(await api(tc.url, '/api/v1/cameras/nope', { token: admin }), 404, 'not_found');
  assertError(await api(tc.url, '/api/v1/cameras/nope', { method: 'DELETE', token: admin }), 404, 'not_found');
});

test('API tokens can list cameras but not change them', async () => {
  const created = await api(tc.url, '/api/v1/tokens', { token: admin, body: { name: 'compressor' } });
  const { secret } = created.json as { secret: string };
  assert.equal((await api(tc.url, '/api/v1/cameras', { token: secret })).status, 200);
  const res = await api(tc.url, '/api/v1/cameras', {
    token: secret,
    body: { id: 'x', name: 'x', source: { kind: 'rtmp-push' } },
  });
  assertError(res, 403, 'forbidden');
  assertError(await api(tc.url, '/api/v1/cameras/gate-1', { method: 'DELETE', token: secret }), 403, 'forbidden');
});

test('delete removes the camera and records it in the audit log', async () => {
  await api(tc.url, '/api/v1/cameras', {
    token: admin,
    body: { id: 'temp', name: 'Temp', source: { kind: 'rtmp-push' } },
  });
  const res = await api(tc.url, '/api/v1/cameras/temp', { method: 'DELETE', token: admin });
  assert.equal(res.status, 204);
  assert.equal(row('temp'), undefined);
  const actions = dbQuery<{ action: string }>(
    tc.dataDir,
    "SELECT action FROM audit_log WHERE target = 'temp' ORDER BY id",
  );
  assert.deepEqual(
    actions.map((a) => a.action),
    ['camera-created', 'camera-deleted'],
  );
});
