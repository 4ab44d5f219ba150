/**
 * Camera leases over real HTTP on a slave: grant, renew, conflict, expiry on the monotonic clock, release, errors,
 * the API token a lease is bound to, and the lease's RTSP credential (only in the claim answer; no API access).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { CameraLease, LeaseRtspCredential } from '../../../app/defs/camera.js';
import type { BusEvent } from '../../../app/defs/events.js';
import { login, startCore, type TestCore } from '../../helpers/core.js';
import { api, assertError, until } from '../../helpers/http.js';

let tc: TestCore;
let admin: string;
/** A plain API token, as a compressor holds. */
let token: string;
const events: BusEvent[] = [];

before(async () => {
  tc = await startCore(null, { flags: { 'node.role': 'slave' } });
  tc.core.bus.onAny((e) => events.push(e));
  admin = (await login(tc.url)).accessToken;
  token = (
    (await api(tc.url, '/api/v1/tokens', { token: admin, body: { name: 'compressor' } })).json as { secret: string }
  ).secret;
  for (const id of ['cam-a', 'cam-b', 'cam-c', 'cam-d']) {
    const res = await api(tc.url, '/api/v1/cameras', {
      token: admin,
      body: { id, name: id, source: { kind: 'rtmp-push' } },
    });
    assert.equal(res.status, 201, res.text);
  }
});
after(() => tc?.close());

const claim = (cameraId: string, body: unknown, as = token) =>
  api(tc.url, `/api/v1/leases/${cameraId}`, { method: 'PUT', token: as, body });
const release = (cameraId: string, holder: string) =>
  api(tc.url, `/api/v1/leases/${cameraId}?holder=${encodeURIComponent(holder)}`, { method: 'DELETE', token });
const list = async () => ((await api(tc.url, '/api/v1/leases', { token })).json as { leases: CameraLease[] }).leases;
const leaseEvents = (cameraId: string) =>
  events
    .filter((e) => e.type.startsWith('lease.') && (e.data as { cameraId: string }).cameraId === cameraId)
    .map((e) => `${e.type}:${(e.data as { holder: string }).holder}`);

test('a free camera is granted; the same holder renews it; another holder gets 409 naming the holder', async () => {
  const first = await claim('cam-a', { holder: 'compressor-1', ttlS: 30 });
  assert.equal(first.status, 200, first.text);
  const { lease } = first.json as { lease: CameraLease };
  assert.equal(lease.cameraId, 'cam-a');
  assert.equal(lease.holder, 'compressor-1');
  assert.equal(lease.ttlS, 30);
  const left = Date.parse(lease.expiresAt) - Date.now();
  assert.ok(left > 28_000 && left <= 30_500, `expiresAt ${lease.expiresAt} is ~30 s away`);

  // The holder gets the lease's RTSP credential; it is no API credential.
  const { rtsp } = first.json as { rtsp: LeaseRtspCredential };
  assert.match(rtsp.user, /^lease-[0-9a-f]{12}$/);
  assert.ok(rtsp.password.length >= 32, 'a long random password');
  assertError(await api(tc.url, '/api/v1/leases', { token: rtsp.password }), 401);
  const basic = `Basic ${Buffer.from(`${rtsp.user}:${rtsp.password}`).toString('base64')}`;
  assertError(await api(tc.url, '/api/v1/leases', { headers: { authorization: basic } }), 401);

  await new Promise((r) => setTimeout(r, 50));
  const renewed = await claim('cam-a', { holder: 'compressor-1', ttlS: 40 });
  assert.equal(renewed.status, 200, renewed.text);
  assert.deepEqual((renewed.json as { rtsp: LeaseRtspCredential }).rtsp, rtsp, 'a renewal keeps the credential');
  const again = (renewed.json as { lease: CameraLease }).lease;
  assert.equal(again.ttlS, 40);
  assert.ok(Date.parse(again.expiresAt) > Date.parse(lease.expiresAt), 'a renewal moves the end');

  const other = await claim('cam-a', { holder: 'compressor-2', ttlS: 30 });
  const err = assertError(other, 409, 'lease_held', 'holder');
  assert.match(err.message, /compressor-1/);
  assert.equal(other.headers.get('x-lease-holder'), 'compressor-1');
  assert.ok(Math.abs(Date.parse(other.headers.get('x-lease-expires-at')!) - Date.parse(again.expiresAt)) < 1000);
  assert.deepEqual(leaseEvents('cam-a'), ['lease.acquired:compressor-1'], 'renewals publish nothing');
  assert.ok(!other.text.includes(rtsp.user) && !other.text.includes(rtsp.password), 'no credential in a 409');
  assert.deepEqual(
    (await list()).map((l) => [l.cameraId, l.holder]),
    [['cam-a', 'compressor-1']],
  );
  const listed = (await api(tc.url, '/api/v1/leases', { token })).text;
  assert.ok(!listed.includes(rtsp.user) && !listed.includes(rtsp.password), 'no credential in the list');
});

test('release: only by the holder; then another holder may claim', async () => {
  const granted = await claim('cam-b', { holder: 'c1', ttlS: 30 });
  assert.equal(granted.status, 200);
  assertError(await release('cam-b', 'c2'), 409, 'lease_held', 'holder');
  const ok = await release('cam-b', 'c1');
  assert.equal(ok.status, 204, ok.text);
  assert.equal((await release('cam-b', 'c1')).status, 204, 'releasing a free camera is a no-op');
  assert.ok(!(await list()).some((l) => l.cameraId === 'cam-b'));
  const next = await claim('cam-b', { holder: 'c2', ttlS: 30 });
  assert.equal(next.status, 200);
  const user = (r: typeof next) => (r.json as { rtsp: LeaseRtspCredential }).rtsp.user;
  assert.notEqual(user(next), user(granted), 'a new lease, a new RTSP credential');
  assert.deepEqual(leaseEvents('cam-b'), ['lease.acquired:c1', 'lease.released:c1', 'lease.acquired:c2']);
});

test('a lease that is not renewed expires after its TTL; another holder takes the camera', async () => {
  const t0 = performance.now();
  assert.equal((await claim('cam-c', { holder: 'dying', ttlS: 2 })).status, 200);
  assertError(await claim('cam-c', { holder: 'heir', ttlS: 2 }), 409, 'lease_held');
  // Nobody touches the camera: the sweep publishes the expiry by itself.
  await until(async () => leaseEvents('cam-c').includes('lease.expired:dying'), 5000, 'lease.expired');
  const waited = performance.now() - t0;
  assert.ok(waited >= 1900 && waited < 3600, `expired after ${Math.round(waited)} ms (TTL 2 s, sweep 1 s)`);
  assert.ok(!(await list()).some((l) => l.cameraId === 'cam-c'));
  assert.equal((await claim('cam-c', { holder: 'heir', ttlS: 2 })).status, 200);
  assert.deepEqual(leaseEvents('cam-c'), ['lease.acquired:dying', 'lease.expired:dying', 'lease.acquired:heir']);
});

test('unknown cameras are 404', async () => {
  assertError(await claim('nope', { holder: 'c1', ttlS: 10 }), 404, 'not_found');
  assertError(await release('nope', 'c1'), 404, 'not_found');
});

test('bad input names the field and claims nothing', async () => {
  const cases: Array<[string, unknown, string]> = [
    ['cam-d', { holder: 'c1', ttlS: 1 }, 'ttlS'],
    ['cam-d', { holder: 'c1', ttlS: 121 }, 'ttlS'],
    ['cam-d', { holder: 'c1', ttlS: 2.5 }, 'ttlS'],
    ['cam-d', { holder: 'c1', ttlS: '10' }, 'ttlS'],
    ['cam-d', { holder: 'c1' }, 'ttlS'],
    ['cam-d', { holder: '', ttlS: 10 }, 'holder'],
    ['cam-d', { holder: 'x'.repeat(129), ttlS: 10 }, 'holder'],
    ['cam-d', { holder: 'two\nlines', ttlS: 10 }, 'holder'],
    ['cam-d', { ttlS: 10 }, 'holder'],
    ['Bad%20Id', { holder: 'c1', ttlS: 10 }, 'cameraId'],
  ];
  for (const [id, body, field] of cases) assertError(await claim(id, body), 400, 'invalid_request', field);
  assertError(await api(tc.url, '/api/v1/leases/cam-d', { method: 'DELETE', token }), 400, 'invalid_request', 'holder');
  assertError(await api(tc.url, '/api/v1/leases/cam-d', { method: 'PUT', token }), 400);
  assert.ok(!(await list()).some((l) => l.cameraId === 'cam-d'));
  const max = await claim('cam-d', { holder: `ü${'x'.repeat(127)}`, ttlS: 120 });
  assert.equal(max.status, 200, 'the bounds themselves are accepted');
  const held = await claim('cam-d', { holder: 'c1', ttlS: 2 });
  assert.equal(decodeURIComponent(held.headers.get('x-lease-holder')!), `ü${'x'.repeat(127)}`);
});

test('every lease route needs a credential; a plain API token is enough', async () => {
  assertError(await api(tc.url, '/api/v1/leases'), 401, 'unauthorized');
  assertError(await claim('cam-a', { holder: 'c1', ttlS: 10 }, ''), 401, 'unauthorized');
  assertError(await api(tc.url, '/api/v1/leases/cam-a?holder=c1', { method: 'DELETE' }), 401, 'unauthorized');
  assertError(await claim('cam-a', { holder: 'c1', ttlS: 10 }, 'cpt_000000000000_nope'), 401, 'invalid_token');
  assert.equal((await api(tc.url, '/api/v1/leases', { token })).status, 200);
  assert.equal((await api(tc.url, '/api/v1/leases', { token: admin })).status, 200);
});

test('a lease is bound to the API token that claimed it; an admin session lists but cannot claim or release', async () => {
  const other = (
    (await api(tc.url, '/api/v1/tokens', { token: admin, body: { name: 'compressor-2' } })).json as { secret: string }
  ).secret;
  // cam-a is compressor-1's (first test): its name with another token is another holder, for claims and releases.
  const stolen = assertError(await claim('cam-a', { holder: 'compressor-1', ttlS: 30 }, other), 409, 'lease_held');
  assert.match(stolen.message, /"compressor-1" with another API token/);
  const del = (as: string) => api(tc.url, '/api/v1/leases/cam-a?holder=compressor-1', { method: 'DELETE', token: as });
  assertError(await del(other), 409, 'lease_held');
  assertError(await claim('cam-a', { holder: 'compressor-1', ttlS: 30 }, admin), 403, 'forbidden');
  assertError(await del(admin), 403, 'forbidden');
  assertError(await claim('cam-d', { holder: 'ops', ttlS: 30 }, admin), 403, 'forbidden');
  assert.deepEqual(
    (await list()).filter((l) => l.cameraId === 'cam-a').map((l) => l.holder),
    ['compressor-1'],
    'nothing changed hands',
  );
  assert.equal((await claim('cam-a', { holder: 'compressor-1', ttlS: 30 })).status, 200, 'the own token renews');
});
