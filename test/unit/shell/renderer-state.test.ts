/** Pure parts of the renderer: feed bounding, event wording, routes, SSE parsing, sign-in messages. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { BusEvent } from '../../../app/defs/events.js';
import { ApiError } from '../../../renderer/src/platform/api-error.js';
import { EVENT_TYPES } from '../../../renderer/src/platform/event-types.js';
import { parseBusEvent } from '../../../renderer/src/platform/parse-event.js';
import { parseRoute } from '../../../renderer/src/routes.js';
import { describeEvent, formatUptime } from '../../../renderer/src/state/describe-event.js';
import { FEED_LIMIT, prependEvent } from '../../../renderer/src/state/feed.js';
import { loginErrorMessage } from '../../../renderer/src/state/session-store.js';

function tokenEvent(id: number): BusEvent {
  return { id, type: 'auth.token-created', time: '2026-01-01T00:00:00.000Z', data: { id: `t${id}`, name: `n${id}` } };
}

test('the feed is newest first, bounded, and ignores replayed duplicates and progress spam', () => {
  let list: BusEvent[] = [];
  for (let i = 1; i <= FEED_LIMIT + 25; i++) list = prependEvent(list, tokenEvent(i));
  assert.equal(list.length, FEED_LIMIT);
  assert.equal(list[0]?.id, FEED_LIMIT + 25);
  assert.equal(list.at(-1)?.id, 26);
  assert.equal(prependEvent(list, tokenEvent(FEED_LIMIT + 25)), list, 'same id again is a no-op');
  const progress = { id: 0, type: 'child.progress', time: '', data: {} } as unknown as BusEvent;
  assert.equal(prependEvent(list, progress), list);
  const volatile = { ...tokenEvent(0) };
  assert.equal(prependEvent(prependEvent([], volatile), volatile).length, 2, 'id 0 events are never deduplicated');
});

test('every event type has wording', () => {
  assert.equal(describeEvent(tokenEvent(7)).text, 'API token "n7" created');
  const gaveUp = {
    id: 1,
    type: 'child.gave-up',
    time: '',
    data: { name: 'ffmpeg-cam1', attempts: 5, reason: 'exit 1' },
  } as BusEvent;
  assert.deepEqual(describeEvent(gaveUp), { text: 'ffmpeg-cam1 gave up after 5 attempts: exit 1', severity: 'error' });
  const peer = (state: 'up' | 'down', previous: 'unknown' | 'up' | 'down') =>
    ({
      id: 3,
      type: 'peer.health',
      time: '',
      data: { kind: 'slave', name: 'slave-a', url: 'http://x', state, previous, rttMs: 2, lastError: 'fetch failed' },
    }) as BusEvent;
  assert.deepEqual(describeEvent(peer('down', 'up')), {
    text: 'Slave slave-a is down (fetch failed)',
    severity: 'warn',
  });
  assert.deepEqual(describeEvent(peer('up', 'down')), { text: 'Slave slave-a is up', severity: 'info' });
  const unknown = { id: 2, type: 'future.thing', time: '', data: {} } as unknown as BusEvent;
  assert.equal(describeEvent(unknown).text, 'future.thing');
  assert.equal(new Set(EVENT_TYPES).size, EVENT_TYPES.length);
});

test('uptime reads like a clock', () => {
  assert.equal(formatUptime(0), '00:00:00');
  assert.equal(formatUptime(3661.9), '01:01:01');
  assert.equal(formatUptime(86_400 + 7), '1d 00:00:07');
  assert.equal(formatUptime(-5), '00:00:00');
});

test('hash routes', () => {
  assert.equal(parseRoute('#/mosaic'), 'mosaic');
  assert.equal(parseRoute('#mosaic'), 'mosaic');
  assert.equal(parseRoute('#/settings/api?x=1'), 'settings');
  assert.equal(parseRoute(''), 'dashboard');
  assert.equal(parseRoute('#/nope'), 'dashboard');
});

test('SSE payloads that are not BusEvents are dropped', () => {
  const e = tokenEvent(3);
  assert.deepEqual(parseBusEvent(JSON.stringify(e)), e);
  assert.equal(parseBusEvent('not json'), null);
  assert.equal(parseBusEvent('null'), null);
  assert.equal(parseBusEvent(JSON.stringify({ oldestId: 3, lastEventId: 1 })), null, 'the core\'s "reset" frame');
});

test('sign-in failures read as operator messages', () => {
  assert.equal(loginErrorMessage(new ApiError(401, 'invalid_credentials', 'invalid password')), 'Wrong password.');
  assert.match(loginErrorMessage(new ApiError(429, 'rate_limited', 'slow down')), /Too many attempts/);
  assert.equal(loginErrorMessage(new ApiError(0, 'unreachable', 'x')), 'Cannot reach the Cupola core.');
  assert.equal(loginErrorMessage(new ApiError(500, 'internal', 'database locked')), 'database locked');
  assert.equal(loginErrorMessage(new Error('boom')), 'Sign-in failed.');
});
