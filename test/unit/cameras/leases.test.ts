/**
 * LeaseTable on a fake monotonic clock: grant, renew, conflict, expiry (lazy and swept), release, the token a lease
 * is bound to, no timer left.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LeaseTable } from '../../../app/cameras/leases.js';
import type { EventMap } from '../../../app/defs/events.js';

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
  assert.deepEqual(leases.publishers(), [
    { cameraId: 'cam', holder: 'a', tokenId: 't1' },
    { cameraId: 'other', holder: 'b', tokenId: 't2' },
  ]);
  assert.equal(leases.release('cam', as('a', 't1')).ok, true);
  assert.deepEqual(
    leases.publishers().map((p) => p.cameraId),
    ['other'],
  );
  assert.deepEqual(events, ['lease.acquired cam a', 'lease.acquired other b', 'lease.released cam a']);
});
