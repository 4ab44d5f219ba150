/** `cupola serve` as a real process: first-start password, SIGTERM, the data dir lock, a corrupt database, a taken port. */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { before, test } from 'node:test';
import {
  checkBuild,
  cliEnv,
  freePort,
  login,
  portIsFree,
  processExists,
  runCli,
  spawnServe,
  tempDir,
} from '../../helpers/core.js';
import { api, assertError } from '../../helpers/http.js';
import { descendantsOf, isRunning, killAll, waitUntil } from '../../helpers/processes.js';

before(checkBuild);

const PASSWORD_LINE = /Cupola admin password \(shown once\): ([a-z0-9]{5}(?:-[a-z0-9]{5}){3})\n/g;
const sha = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

/** Sends SIGTERM and returns how the process ended and how long it took. */
async function terminate(
  proc: ReturnType<typeof spawnServe>,
): Promise<{ code: number | null; signal: string | null; ms: number }> {
  const t0 = Date.now();
  proc.child.kill('SIGTERM');
  const end = await Promise.race([proc.exited, new Promise<null>((r) => setTimeout(() => r(null), 7000).unref())]);
  assert.ok(
    end,
    `cupola serve (pid ${proc.pid}) did not exit within 7 s of SIGTERM\nstdout: ${proc.stdout.slice(-2000)}\nstderr: ${proc.stderr}`,
  );
  return { ...end, ms: Date.now() - t0 };
}

test('first start prints a generated admin password once; it works; not in the log; a second start prints none; SIGTERM exits cleanly', async (t) => {
  const home = tempDir(t);
  const data = tempDir(t);
  const port = await freePort();
  const first = spawnServe(t, ['--data-dir', data, '--set', `api.port=${port}`], cliEnv(home));
  const url = await first.ready();
  const [, password] = await first.waitStdout(/Cupola admin password \(shown once\): (\S+)\n/);
  assert.match(password!, /^[a-z0-9]{5}(-[a-z0-9]{5}){3}$/);
  assert.equal([...first.stdout.matchAll(PASSWORD_LINE)].length, 1, 'printed exactly once');
  assert.ok(!first.stderr.includes(password!));
  await login(url, password);
  assertError(
    await api(url, '/api/v1/auth/login', { body: { password: 'not-the-password' } }),
    401,
    'invalid_credentials',
  );
  const end1 = await terminate(first);
  assert.deepEqual([end1.code, end1.signal], [0, null], `exit after SIGTERM; stderr: ${first.stderr}`);

  const second = spawnServe(t, ['--data-dir', data, '--set', `api.port=${port}`], cliEnv(home));
  const url2 = await second.ready();
  const { accessToken } = await login(url2, password);
  assert.doesNotMatch(second.stdout, /admin password/i, 'a second start must not print a password');
  assert.ok(existsSync(join(data, 'cupola.lock')));
  // An open SSE stream must not hold the shutdown up.
  const sse = await fetch(`${url2}/api/v1/events`, { headers: { authorization: `Bearer ${accessToken}` } });
  assert.equal(sse.status, 200);
  const end2 = await terminate(second);
  await sse.body?.cancel().catch(() => {});
  assert.deepEqual([end2.code, end2.signal], [0, null], `exit after SIGTERM; stderr: ${second.stderr}`);
  assert.ok(end2.ms < 5000, `took ${end2.ms} ms to exit after SIGTERM`);
  assert.equal(processExists(second.pid), false, `pid ${second.pid} still exists`);
  assert.equal(await portIsFree(port), true, `port ${port} is still taken`);
  assert.equal(existsSync(join(data, 'cupola.lock')), false, 'the data dir lock was left behind');
  assert.match(second.stdout, /cupola stopped/);

  const logFile = join(data, 'logs', 'cupola.log');
  assert.ok(existsSync(logFile), 'no log file in <dataDir>/logs');
  const log = readFileSync(logFile, 'utf8');
  assert.match(log, /cupola started/);
  assert.ok(!log.includes(password!), 'the generated password is in the log file');
  const structured = [...first.stdout.split('\n'), ...second.stdout.split('\n')].filter((l) => l.startsWith('{'));
  assert.ok(
    structured.every((l) => !l.includes(password!)),
    'the generated password is in a structured log line on stdout',
  );
});

test('a second core on the same data dir → exit 3 with an "in use" message; the first keeps running', async (t) => {
  const home = tempDir(t);
  const data = tempDir(t);
  const args = ['--data-dir', data, '--set', 'auth.adminPassword=serve-test-pw'];
  const first = spawnServe(t, [...args, '--set', `api.port=${await freePort()}`], cliEnv(home));
  const url = await first.ready();
  const second = await runCli(['serve', ...args, '--set', `api.port=${await freePort()}`], cliEnv(home));
  assert.equal(second.code, 3, `exit code; stderr: ${second.stderr}`);
  assert.match(second.stderr, /in use/);
  assert.match(second.stderr, new RegExp(`pid ${first.pid}`));
  assert.doesNotMatch(second.stderr, /\n\s+at /, 'stack trace on stderr');
  assert.equal((await api(url, '/health')).status, 200, 'the first core stopped answering');
  await login(url, 'serve-test-pw');
  assert.ok(existsSync(join(data, 'cupola.lock')), "the second core removed the first one's lock");

  // After a crash (SIGKILL: no clean-up) the stale lock is taken over and the data is still there.
  first.child.kill('SIGKILL');
  await first.exited;
  assert.ok(existsSync(join(data, 'cupola.lock')), 'a killed core leaves its lock (the case the takeover handles)');
  const third = spawnServe(t, [...args, '--set', `api.port=${await freePort()}`], cliEnv(home));
  const url3 = await third.ready();
  await login(url3, 'serve-test-pw');
  assert.equal((await terminate(third)).code, 0);
});

test('a corrupt database file → exit 3 with a "corrupt" message, and the file is left untouched', async (t) => {
  const data = tempDir(t);
  const db = join(data, 'cupola.db');
  const garbage = Buffer.alloc(64 * 1024);
  for (let i = 0; i < garbage.length; i++) garbage[i] = (i * 7919 + 13) % 251;
  writeFileSync(db, garbage);
  const before = sha(db);
  const r = await runCli(
    ['serve', '--data-dir', data, '--set', `api.port=${await freePort()}`, '--set', 'auth.adminPassword=serve-test-pw'],
    cliEnv(tempDir(t)),
  );
  assert.equal(r.code, 3, `exit code; stderr: ${r.stderr}`);
  assert.match(r.stderr, /corrupt/);
  assert.match(r.stderr, /cupola\.db/);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'stack trace on stderr');
  assert.equal(sha(db), before, 'the corrupt database was modified');
  assert.equal(readFileSync(db).length, garbage.length);
  assert.equal(existsSync(join(data, 'cupola.lock')), false, 'the data dir lock was left behind');
});

test('a port already taken → exit 3 naming api.port; nothing left behind', async (t) => {
  const blocker = createServer();
  await new Promise<void>((ok) => blocker.listen(0, '127.0.0.1', ok));
  t.after(() => new Promise<void>((ok) => blocker.close(() => ok())));
  const port = (blocker.address() as AddressInfo).port;
  const data = tempDir(t);
  const r = await runCli(
    ['serve', '--data-dir', data, '--set', `api.port=${port}`, '--set', 'auth.adminPassword=serve-test-pw'],
    cliEnv(tempDir(t)),
  );
  assert.equal(r.code, 3, `exit code; stderr: ${r.stderr}`);
  assert.match(r.stderr, /api\.port/);
  assert.match(r.stderr, new RegExp(`\\b${port}\\b`));
  assert.match(r.stderr, /in use/);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'stack trace on stderr');
  assert.equal(existsSync(join(data, 'cupola.lock')), false, 'the data dir lock was left behind');
});

test('the core killed with -9 leaves no child behind: its media-plane worker is gone within 5 s', async (t) => {
  const home = tempDir(t);
  const data = tempDir(t);
  const args = ['--data-dir', data, '--role', 'slave', '--set', 'auth.adminPassword=serve-test-pw'];
  const core = spawnServe(t, [...args, '--set', `api.port=${await freePort()}`], cliEnv(home));
  await core.ready();
  const children = descendantsOf(core.pid);
  const worker = children.find((p) => p.argv.join(' ').includes('media/worker/main'));
  assert.ok(worker, `a media-plane worker runs under the core: ${children.map((p) => p.argv.join(' ')).join(' | ')}`);
  assert.notEqual(worker.pgid, core.pid, 'the worker has its own process group');
  t.after(() => killAll([worker.pid]));
  core.child.kill('SIGKILL');
  await core.exited;
  const goneMs = await waitUntil(() => !isRunning(worker.pid), 5000, 'the worker to die with its core');
  t.diagnostic(`worker gone ${Math.round(goneMs)} ms after the core's SIGKILL was reaped`);
});
