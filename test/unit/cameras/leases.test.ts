/**
 * LeaseTable on a fake monotonic clock: grant, renew, conflict, expiry (lazy and swept), release, the token a lease
 * is bound to, its RTSP credential, no timer left.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { LeaseTable } from '../../../app/cameras/leases.js';
import type { EventMap } from '../../../app/defs/events.js';
import { digestHa1 } from '../../../app/media/rtsp/auth.js';

function table() {
  let now = 0;
  const events: string[] = [];
  const bus = {
    emit: <K extends keyof EventMap>(type: K, data: EventMap[K]) => {
      events.push(`${type} ${(data as { cameraId: string }).cameraId} ${(data as { holder: string }).holder}`);
      return { id: events.length, type, time: '', data };
    },
  };
  const leases = new LeaseTable({ cameraExists: (id) => id !== 'nope', bus, now: () => now, sweepMs: 10 });
  return { leases, events, advance: (ms: number) => (now += ms) };
}

/** A claimant whose token id is derived from its name (`a` → `tok-a`). */
const as = (holder: string, tokenId = `tok-${holder}`) => ({ holder, tokenId });

test('grant, silent renewal, conflict, expiry on the monotonic clock, take-over', () => {
  const { leases, events, advance } = table();
  assert.equal(leases.claim('cam', as('a'), 2).ok, true);
  advance(1500);
  assert.equal(leases.claim('cam', as('a'), 2).ok, true, 'renewed');
  const held = leases.claim('cam', as('b'), 2);
  assert.ok(!held.ok && held.reason === 'held' && held.lease.holder === 'a');
  advance(1999);
  assert.equal(leases.list().length, 1, 'the renewal counts from its own time');
  advance(1);
  assert.deepEqual(leases.list(), []);
  assert.equal(leases.claim('cam', as('b'), 5).ok, true);
  assert.deepEqual(events, ['lease.acquired cam a', 'lease.expired cam a', 'lease.acquired cam b']);
  assert.deepEqual(leases.claim('nope', as('a'), 2), { ok: false, reason: 'unknown-camera' });
});

test('release only by the holder; a free camera releases as a no-op', () => {
  const { leases, events } = table();
  leases.claim('cam', as('a'), 10);
  assert.equal(leases.release('cam', as('b')).ok, false);
  assert.deepEqual(leases.release('cam', as('a')), { ok: true, lease: null });
  assert.deepEqual(leases.release('cam', as('a')), { ok: true, lease: null });
  assert.deepEqual(events, ['lease.acquired cam a', 'lease.released cam a']);
});

test('the sweep publishes expiries nobody asked about, and stop() leaves no timer', async () => {
  const { leases, events, advance } = table();
  const before = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
  leases.start();
  leases.claim('cam', as('a'), 2);
  advance(2000);
  await new Promise((r) => setTimeout(r, 30));
  assert.deepEqual(events, ['lease.acquired cam a', 'lease.expired cam a']);
  leases.stop();
  const after = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
  assert.equal(after, before);
});

test('a lease is bound to the token that claimed it: the same name with another token is another holder', () => {
  const { leases, events } = table();
  assert.equal(leases.claim('cam', as('a', 't1'), 10).ok, true);
  const stolen = leases.claim('cam', as('a', 't2'), 10);
  assert.ok(!stolen.ok && stolen.reason === 'held' && stolen.lease.holder === 'a', 'a name alone does not renew');
  assert.equal(leases.release('cam', as('a', 't2')).ok, false, 'nor release');
  assert.equal(leases.claim('other', as('b', 't2'), 10).ok, true);
  assert.deepEqual(
    leases.publishers().map(({ cameraId, holder, tokenId }) => ({ cameraId, holder, tokenId })),
    [
      { cameraId: 'cam', holder: 'a', tokenId: 't1' },
      { cameraId: 'other', holder: 'b', tokenId: 't2' },
    ],
  );
  assert.equal(leases.release('cam', as('a', 't1')).ok, true);
  assert.deepEqual(
    leases.publishers().map((p) => p.cameraId),
    ['other'],
  );
  assert.deepEqual(events, ['lease.acquired cam a', 'lease.acquired other b', 'lease.released cam a']);
});

test('an RTSP credential per lease: made at acquisition, kept by renewals, new after expiry or release', () => {
  const { leases, advance } = table();
  const granted = (cameraId: string, who = as('a'), ttlS = 2) => {
    const r = leases.claim(cameraId, who, ttlS);
    assert.ok(r.ok, JSON.stringify(r));
    return r.rtsp;
  };
  const first = granted('cam');
  assert.match(first.user, /^lease-[0-9a-f]{12}$/);
  assert.ok(first.password.length >= 32, 'a long random password');
  advance(1500);
  assert.deepEqual(granted('cam'), first, 'a renewal keeps it');
  assert.notEqual(granted('other').user, first.user, 'each lease has its own');
  const held = leases.claim('cam', as('b'), 2);
  assert.ok(!held.ok && !('rtsp' in held), 'a refused claim says nothing of it');
  // What the media plane gets: the user, the SHA-256 and the HA1 of the password, never the password.
  const pub = leases.publishers().find((p) => p.cameraId === 'cam')!;
  assert.deepEqual(pub.rtsp, {
    user: first.user,
    hash: createHash('sha256').update(first.password).digest('base64url'),
    ha1: digestHa1(first.user, first.password),
  });
  assert.ok(!JSON.stringify(leases.publishers()).includes(first.password));
  assert.ok(!JSON.stringify(leases.list()).includes(first.user), 'the list shows no credential');
  advance(2000);
  const afterExpiry = granted('cam');
  assert.notEqual(afterExpiry.user, first.user, 'expired: a new lease, a new credential');
  assert.notEqual(afterExpiry.password, first.password);
  assert.equal(leases.release('cam', as('a')).ok, true);
  assert.ok(!leases.publishers().some((p) => p.cameraId === 'cam'), 'released: gone from the media plane');
  assert.notEqual(granted('cam').user, afterExpiry.user, 'released: a new lease, a new credential');
});
