/** 1,000 wrong logins, 50 in flight: every answer is 401 or 429 with the error shape, the node stays up, the DB is consistent. */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { startCore } from '../../helpers/core.js';
import { api, assertError, mapLimit } from '../../helpers/http.js';

const ATTEMPTS = 1000;
const CONCURRENCY = 50;

test(`${ATTEMPTS} login attempts with ${CONCURRENCY} in flight`, async (t) => {
  const tc = await startCore(t);
  const started = Date.now();
  const results = await mapLimit(
    Array.from({ length: ATTEMPTS }, (_, i) => i),
    CONCURRENCY,
    async (i) => {
      const res = await api(tc.url, '/api/v1/auth/login', { body: { password: `not-the-password-${i}` } });
      if (res.status === 429) assertError(res, 429, 'rate_limited');
      else assertError(res, 401, 'invalid_credentials');
      return res.status;
    },
  );
  t.diagnostic(`${ATTEMPTS} attempts in ${Date.now() - started} ms`);
  const count = (s: number) => results.filter((x) => x === s).length;
  assert.equal(count(401) + count(429), ATTEMPTS);
  assert.ok(count(401) <= 10, `${count(401)} attempts reached the password check; the limit is 10 per minute`);
  assert.ok(count(429) >= ATTEMPTS - 10);

  // Still up and serving.
  const health = await api(tc.url, '/health');
  assert.equal(health.status, 200);
  assert.deepEqual(health.json, { status: 'ok' });

  // The database is consistent: a failure row per checked attempt at most, no session was created.
  const db = new Database(join(tc.dataDir, 'cupola.db'), { readonly: true, fileMustExist: true });
  try {
    assert.equal(db.pragma('quick_check', { simple: true }), 'ok');
    const failures = (
      db.prepare("SELECT count(*) AS n FROM audit_log WHERE action = 'login-failed'").get() as { n: number }
    ).n;
    assert.ok(failures <= ATTEMPTS, `${failures} login-failed rows for ${ATTEMPTS} attempts`);
    assert.equal(failures, count(401), 'one audit row per attempt that reached the password check');
    assert.equal(
      (db.prepare("SELECT count(*) AS n FROM audit_log WHERE action = 'login'").get() as { n: number }).n,
      0,
    );
    assert.equal(
      (db.prepare('SELECT count(*) AS n FROM refresh_tokens').get() as { n: number }).n,
      0,
      'no refresh token may exist',
    );
  } finally {
    db.close();
  }
});
