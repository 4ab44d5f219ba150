/** LeaseTable on a fake monotonic clock: grant, renew, conflict, expiry (lazy and swept), release, no timer left. */
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

test('grant, silent renewal, conflict, expiry on the monotonic clock, take-over', () => {
  const { leases, events, advance } = table();
  assert.equal(leases.claim('cam', 'a', 2).ok, true);
  advance(1500);
  assert.equal(leases.claim('cam', 'a', 2).ok, true, 'renewed');
  const held = leases.claim('cam', 'b', 2);
  assert.ok(!held.ok && held.reason === 'held' && held.lease.holder === 'a');
  advance(1999);
  assert.equal(leases.list().length, 1, 'the renewal counts from its own time');
  advance(1);
  assert.deepEqual(leases.list(), []);
  assert.equal(leases.claim('cam', 'b', 5).ok, true);
  assert.deepEqual(events, ['lease.acquired cam a', 'lease.expired cam a', 'lease.acquired cam b']);
  assert.deepEqual(leases.claim('nope', 'a', 2), { ok: false, reason: 'unknown-camera' });
});

test('release only by the holder; a free camera releases as a no-op', () => {
  const { leases, events } = table();
  leases.claim('cam', 'a', 10);
  assert.equal(leases.release('cam', 'b').ok, false);
  assert.deepEqual(leases.release('cam', 'a'), { ok: true, lease: null });
  assert.deepEqual(leases.release('cam', 'a'), { ok: true, lease: null });
  assert.deepEqual(events, ['lease.acquired cam a', 'lease.released cam a']);
});

test('the sweep publishes expiries nobody asked about, and stop() leaves no timer', async () => {
  const { leases, events, advance } = table();
  const before = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
  leases.start();
  leases.claim('cam', 'a', 2);
  advance(2000);
  await new Promise((r) => setTimeout(r, 30));
  assert.deepEqual(events, ['lease.acquired cam a', 'lease.expired cam a']);
  leases.stop();
  const after = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
  assert.equal(after, before);
});
