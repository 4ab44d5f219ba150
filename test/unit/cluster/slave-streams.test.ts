/** StreamTracker: listings lag the slave by up to its stats period, events do not; changes come out in batches. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { StreamTracker } from '../../../app/cluster/slave-streams.js';

function tracker() {
  let now = 10_000;
  const t = new StreamTracker(3000, () => now);
  return { t, advance: (ms: number) => (now += ms), now: () => now };
}

test('a listing sets the view; changes are reported once, sorted', () => {
  const { t, now } = tracker();
  t.applyListing({ f1: ['b', 'a'], f2: ['a'] }, now());
  assert.deepEqual(t.takeChanges(), { online: ['a', 'b'], offline: [] });
  assert.deepEqual(t.takeChanges(), { online: [], offline: [] });
  assert.deepEqual(t.paths('f2'), ['a']);
  t.applyListing({ f1: ['a'], f2: [] }, now());
  assert.deepEqual(t.takeChanges(), { online: [], offline: ['b'] });
});

test('a listing asked for shortly after an event does not overrule it; a later one does', () => {
  const { t, advance, now } = tracker();
  t.applyEvent('f1', 'cam', true);
  advance(1000);
  t.applyListing({ f1: [], f2: [] }, now()); // stale: taken before the camera came online
  assert.deepEqual(t.paths('f1'), ['cam']);
  advance(2500);
  t.applyListing({ f1: [], f2: [] }, now()); // asked for 3.5 s after the event: it is the truth now
  assert.deepEqual(t.paths('f1'), []);
});

test('a flap inside one batch is no change at all', () => {
  const { t } = tracker();
  t.applyEvent('f1', 'cam', true);
  t.applyEvent('f1', 'cam', false);
  assert.deepEqual(t.takeChanges(), { online: [], offline: [] });
  t.applyEvent('f1', 'cam', true);
  assert.deepEqual(t.takeChanges(), { online: ['cam'], offline: [] });
  t.applyEvent('f1', 'cam', false);
  t.applyEvent('f1', 'cam', true);
  assert.deepEqual(t.takeChanges(), { online: [], offline: [] });
  t.applyEvent('f2', 'cam', false);
  assert.deepEqual(t.takeChanges(), { online: [], offline: [] }, 'F2 is tracked, not reported');
});
