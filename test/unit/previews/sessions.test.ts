import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { SessionTable } from '../../../app/media/preview/sessions.js';

class Fake {
  stopped = 0;
  constructor(readonly id: number) {}
  async stop(): Promise<void> {
    await sleep(5);
    this.stopped += 1;
  }
}

function table(lingerMs: number) {
  let n = 0;
  const created: Fake[] = [];
  const t = new SessionTable<Fake>(
    () => lingerMs,
    () => {},
  );
  const make = () => {
    const f = new Fake(++n);
    created.push(f);
    return f;
  };
  return { t, make, created };
}

test('users of a key share one session; it stops lingerMs after the last release, not before', async () => {
  const { t, make, created } = table(40);
  const a = t.acquire('k', make);
  const b = t.acquire('k', make);
  assert.equal(a, b);
  assert.equal(created.length, 1);
  t.release('k', a);
  await sleep(60);
  assert.equal(a.stopped, 0, 'one user left');
  t.release('k', b);
  await sleep(20);
  assert.equal(a.stopped, 0, 'lingering');
  assert.equal(t.size, 1);
  await sleep(50);
  assert.equal(a.stopped, 1);
  assert.equal(t.size, 0);
});

test('a new user within the linger keeps the session; after it, a fresh one is made', async () => {
  const { t, make } = table(30);
  const a = t.acquire('k', make);
  t.release('k', a);
  await sleep(10);
  assert.equal(t.acquire('k', make), a, 'joined during the linger');
  t.release('k', a);
  await sleep(60);
  assert.equal(a.stopped, 1);
  const b = t.acquire('k', make);
  assert.notEqual(b, a);
  t.release('k', a); // a stale release of the old session does nothing to the new one
  assert.equal(t.list()[0]?.users, 1);
  await t.stopAll();
  assert.equal(b.stopped, 1);
});

test('linger 0 stops at once; stopAll() stops lingering sessions and waits; release is idempotent', async () => {
  const now = table(0);
  const x = now.t.acquire('x', now.make);
  now.t.release('x', x);
  now.t.release('x', x);
  await now.t.stopAll();
  assert.equal(x.stopped, 1);

  const { t, make } = table(60_000);
  const a = t.acquire('a', make);
  const b = t.acquire('b', make);
  t.release('a', a);
  await t.stopAll(); // would hang the test for a minute if a linger timer survived
  assert.deepEqual([a.stopped, b.stopped], [1, 1]);
  assert.equal(t.size, 0);
});
