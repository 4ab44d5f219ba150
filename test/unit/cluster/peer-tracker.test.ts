/** The peer state machine over made-up check results (times in ms). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PeerTracker, type CheckResult } from '../../../app/cluster/peer-tracker.js';
import type { NodeInfo } from '../../../app/defs/node.js';

const DOWN_AFTER = 4000;
const node = (name = 'slave-a'): NodeInfo => ({
  name,
  site: 'site-a',
  roles: ['slave'],
  version: '0.1.0',
  startedAt: new Date(0).toISOString(),
  uptimeS: 1,
  pid: 42,
  media: null,
  health: null,
});
const ok = (at: number, rttMs = 3): CheckResult => ({ ok: true, at, rttMs, node: node() });
const fail = (at: number, refused = false): CheckResult => ({
  ok: false,
  at,
  error: refused ? 'fetch failed (ECONNREFUSED)' : 'no answer within 1500 ms',
  refused,
});

test('unknown until the first check; up on an answer, with the node, rtt and last seen', () => {
  const t = new PeerTracker('slave', 'http://127.0.0.1:9/', undefined, 1000);
  assert.equal(t.health().state, 'unknown');
  assert.equal(t.health().name, '127.0.0.1:9', 'host:port before the node told its name');
  assert.equal(t.apply(ok(2000, 12.345), DOWN_AFTER), 'unknown');
  const h = t.health();
  assert.equal(h.state, 'up');
  assert.equal(h.name, 'slave-a', "the node's own name once known");
  assert.equal(h.rttMs, 12.3);
  assert.equal(h.lastSeen, new Date(2000).toISOString());
  assert.equal(h.since, new Date(2000).toISOString());
  assert.equal(t.apply(ok(4000), DOWN_AFTER), null, 'no change, nothing to tell');
  assert.equal(t.health().since, new Date(2000).toISOString());
});

test('the configured name wins, and can change', () => {
  const t = new PeerTracker('compressor', 'http://10.0.0.5:8080', 'comp-1', 0);
  t.apply(ok(1), DOWN_AFTER);
  assert.equal(t.health().name, 'comp-1');
  t.rename(undefined);
  assert.equal(t.health().name, 'slave-a');
});

test('a first failure is down at once', () => {
  const t = new PeerTracker('slave', 'http://x:1', undefined, 0);
  assert.equal(t.apply(fail(1500), DOWN_AFTER), 'unknown');
  assert.equal(t.health().state, 'down');
  assert.equal(t.health().lastSeen, null);
  assert.equal(t.health().lastError, 'no answer within 1500 ms');
});

test('one lost answer does not flap; two in a row past peerDownAfterS is down; the next answer is up', () => {
  const t = new PeerTracker('slave', 'http://x:1', undefined, 0);
  t.apply(ok(10_000), DOWN_AFTER);
  // Checks every 2 s with a 1.5 s timeout: the one started at 12 s fails at 13.5 s, the one at 14 s answers.
  assert.equal(t.apply(fail(13_500), DOWN_AFTER), null);
  assert.equal(t.health().state, 'up');
  assert.equal(t.health().lastError, 'no answer within 1500 ms', 'the error is kept for the UI');
  assert.equal(t.apply(ok(14_010), DOWN_AFTER), null);
  // Now two lost: 15.5 s (1.49 s silent) stays up, 17.5 s (3.49 s) too, 19.5 s (5.49 s) is down.
  assert.equal(t.apply(fail(15_500), DOWN_AFTER), null);
  assert.equal(t.apply(fail(17_500), DOWN_AFTER), null);
  assert.equal(t.apply(fail(19_500), DOWN_AFTER), 'up');
  assert.equal(t.health().state, 'down');
  assert.equal(t.health().since, new Date(19_500).toISOString());
  assert.equal(t.health().lastSeen, new Date(14_010).toISOString(), 'last seen stays');
  assert.equal(t.health().node?.name, 'slave-a', 'the last node document stays');
  assert.equal(t.apply(fail(21_500), DOWN_AFTER), null, 'down stays down');
  assert.equal(t.apply(ok(22_000), DOWN_AFTER), 'down');
  assert.equal(t.health().state, 'up');
  assert.equal(t.health().lastError, 'no answer within 1500 ms');
});

test('a refused connection is down at once (the process is gone)', () => {
  const t = new PeerTracker('slave', 'http://x:1', undefined, 0);
  t.apply(ok(10_000), DOWN_AFTER);
  assert.equal(t.apply(fail(10_100, true), DOWN_AFTER), 'up');
  assert.equal(t.health().state, 'down');
  assert.equal(t.health().lastError, 'fetch failed (ECONNREFUSED)');
});

test('a short peerDownAfterS (under the interval) is down on the first failure', () => {
  const t = new PeerTracker('slave', 'http://x:1', undefined, 0);
  t.apply(ok(0), 1000);
  assert.equal(t.apply(fail(10_000), 1000), 'up');
});
