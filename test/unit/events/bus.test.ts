import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EventBus } from '../../../app/events/bus.js';

test('events get increasing ids and reach typed and catch-all listeners', () => {
  const bus = new EventBus(10);
  const seen: string[] = [];
  const off = bus.on('auth.token-created', (e) => seen.push(`typed:${e.data.name}`));
  bus.onAny((e) => seen.push(`any:${e.type}`));
  const a = bus.emit('auth.token-created', { id: '1', name: 'a' });
  const b = bus.emit('auth.token-revoked', { id: '1' });
  assert.equal(b.id, a.id + 1);
  off();
  bus.emit('auth.token-created', { id: '2', name: 'b' });
  assert.deepEqual(seen, ['typed:a', 'any:auth.token-created', 'any:auth.token-revoked', 'any:auth.token-created']);
});

test('since() replays exactly the missed events and reports a gap when they left the ring', () => {
  const bus = new EventBus(5);
  for (let i = 0; i < 8; i++) bus.emit('auth.token-revoked', { id: String(i) });
  assert.equal(bus.lastId, 8);
  const replay = bus.since(5);
  assert.ok(replay.ok);
  assert.deepEqual(
    replay.events.map((e) => e.id),
    [6, 7, 8],
  );
  assert.deepEqual(bus.since(8), { ok: true, events: [] });
  assert.deepEqual(bus.since(1), { ok: false, oldestId: 4 });
  assert.ok(bus.since(3).ok, 'the oldest kept event is 4, so resuming after 3 loses nothing');
});

test('volatile events are delivered but never stored or numbered', () => {
  const bus = new EventBus(5);
  let got = 0;
  bus.onAny(() => got++);
  const e = bus.emit('child.progress', { name: 'x', progress: { frame: 1 } });
  assert.equal(e.id, 0);
  assert.equal(got, 1);
  assert.equal(bus.lastId, 0);
});

test('a throwing listener does not stop the others or the publisher', async () => {
  const bus = new EventBus();
  let reached = false;
  bus.onAny(() => {
    throw new Error('boom');
  });
  bus.onAny(() => (reached = true));
  const warned = new Promise((resolve) => process.once('warning', resolve));
  bus.emit('node.stopping', { reason: 'test' });
  assert.ok(reached);
  await warned;
});
