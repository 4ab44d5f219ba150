import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Backoff, backoffDelay, type BackoffOptions } from '../../../app/supervisor/backoff.js';

const OPTS: BackoffOptions = { initialMs: 1000, maxMs: 30_000, healthyAfterMs: 60_000 };

test('without jitter the delay doubles from initialMs and stops at maxMs', () => {
  const mid = () => 0.5; // the centre of the jitter band = no jitter
  const delays = [1, 2, 3, 4, 5, 6, 7, 50].map((n) => backoffDelay(n, OPTS, mid));
  assert.deepEqual(delays, [1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000]);
});

test('jitter stays within ±20% by default and never exceeds maxMs', () => {
  assert.equal(
    backoffDelay(1, OPTS, () => 0),
    800,
  );
  assert.equal(
    backoffDelay(1, OPTS, () => 0.999999),
    1200,
  );
  assert.equal(
    backoffDelay(10, OPTS, () => 0.999999),
    30_000,
    'upper jitter is clamped to maxMs',
  );
  assert.equal(
    backoffDelay(10, OPTS, () => 0),
    24_000,
  );
  for (let i = 0; i < 1000; i++) {
    const n = 1 + (i % 12);
    const d = backoffDelay(n, OPTS);
    const base = Math.min(30_000, 1000 * 2 ** (n - 1));
    assert.ok(d >= base * 0.8 - 1 && d <= Math.min(30_000, base * 1.2 + 1), `attempt ${n}: ${d}`);
  }
});

test('jitter actually spreads delays of children failing together', () => {
  const seen = new Set(Array.from({ length: 50 }, () => backoffDelay(3, OPTS)));
  assert.ok(seen.size > 10, `only ${seen.size} distinct delays`);
});

test('custom jitter, and absurd failure counts stay finite', () => {
  assert.equal(
    backoffDelay(1, { ...OPTS, jitter: 0 }, () => 0),
    1000,
  );
  assert.equal(
    backoffDelay(1, { ...OPTS, jitter: 0.5 }, () => 0),
    500,
  );
  assert.equal(
    backoffDelay(1e9, OPTS, () => 0.5),
    30_000,
  );
  assert.equal(
    backoffDelay(0, OPTS, () => 0.5),
    1000,
    'attempt 0 is treated as the first',
  );
});

test('Backoff counts consecutive failures and resets after a healthy run', () => {
  const b = new Backoff(OPTS, () => 0.5);
  assert.equal(b.next(100), 1000);
  assert.equal(b.next(100), 2000);
  assert.equal(b.next(59_999), 4000, 'just under healthyAfterMs does not reset');
  assert.equal(b.count, 3);
  assert.equal(b.next(60_000), 1000, 'a run of healthyAfterMs forgives the past');
  assert.equal(b.count, 1);
  b.next(0);
  b.reset();
  assert.equal(b.next(0), 1000);
});
