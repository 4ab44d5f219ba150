import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { MAX_SPAWN_FAILURES } from '../../../app/supervisor/child-runner.js';
import { startHarness } from './harness.js';

const QUICK = { backoffInitialMs: 10, backoffMaxMs: 40 };

test('a binary that does not exist: spawn retried with backoff, then child.gave-up', async (t) => {
  const { sup, events } = await startHarness(t, QUICK);
  const child = sup.spawn({ name: 'ghost', kind: 'ffmpeg', command: '/nonexistent/ffmpeg', args: [] });
  const gaveUp = await events.waitFor('child.gave-up');
  assert.equal(gaveUp.attempts, MAX_SPAWN_FAILURES);
  assert.match(gaveUp.reason, /spawn failed 5 time\(s\): ENOENT: \/nonexistent\/ffmpeg is not an executable file/);
  assert.equal(events.of('child.restarting').length, MAX_SPAWN_FAILURES - 1);
  assert.equal(events.of('child.started').length, 0);
  assert.equal(child.status().state, 'gave-up');
  assert.equal(child.status().pid, null);
});

test("restart 'never': a failing exit gives up at once; a clean exit just stops", async (t) => {
  const { sup, events } = await startHarness(t, QUICK);
  sup.spawn({ name: 'fails', kind: 'other', command: 'sh', args: ['-c', 'exit 3'], restart: 'never' });
  const gaveUp = await events.waitFor('child.gave-up');
  assert.deepEqual(gaveUp, { name: 'fails', attempts: 1, reason: "exited with code 3; restart policy is 'never'" });
  const done = sup.spawn({ name: 'done', kind: 'other', command: 'true', args: [], restart: 'never' });
  await events.waitFor('child.exited', (d) => d.name === 'done');
  assert.equal(done.status().state, 'stopped');
  assert.equal(events.of('child.restarting').length, 0);
  assert.equal(events.of('child.gave-up', 'done').length, 0);
});

test("restart 'on-failure' restarts a crash but not a clean exit; 'always' restarts both", async (t) => {
  const { sup, events } = await startHarness(t, QUICK);
  sup.spawn({ name: 'ok', kind: 'other', command: 'true', args: [], restart: 'on-failure' });
  sup.spawn({ name: 'crash', kind: 'other', command: 'sh', args: ['-c', 'exit 1'], restart: 'on-failure' });
  sup.spawn({ name: 'loop', kind: 'other', command: 'true', args: [] });
  await events.waitFor('child.started', (d) => d.name === 'crash' && d.attempt === 3);
  await events.waitFor('child.started', (d) => d.name === 'loop' && d.attempt === 3);
  assert.equal(events.of('child.started', 'ok').length, 1);
  assert.equal(sup.get('ok')!.status().state, 'stopped');
  const delays = events.of('child.restarting', 'crash').map((d) => d.delayMs);
  assert.ok(delays[1]! > delays[0]!, `backoff grows: ${delays.join(', ')}`);
});

test('args are read again at every restart: a getter hands each start fresh arguments', async (t) => {
  const { sup, events } = await startHarness(t, QUICK);
  // Each start says how many starts came before it: only true if args is read again for every start.
  const child = sup.spawn({
    name: 'fresh',
    kind: 'other',
    command: 'sh',
    get args() {
      return ['-c', 'echo "run $0"; exit 1', `after-${events.of('child.started', 'fresh').length}`];
    },
    restart: 'on-failure',
  });
  await events.waitFor('child.started', (d) => d.name === 'fresh' && d.attempt === 4);
  await sleep(50); // output still in the pipes when the exit is reported
  const runs = child.logs().filter((l) => l.startsWith('run '));
  assert.deepEqual(runs.slice(0, 3), ['run after-0', 'run after-1', 'run after-2']);
});

test('logs() keeps the last 200 lines of stdout and stderr', async (t) => {
  const { sup, events } = await startHarness(t);
  const script = 'i=1; while [ $i -le 300 ]; do echo out-$i; echo err-$i >&2; i=$((i+1)); done';
  const child = sup.spawn({ name: 'chatty', kind: 'other', command: 'sh', args: ['-c', script], restart: 'never' });
  await events.waitFor('child.exited');
  await sleep(50); // output still in the pipes when the exit is reported
  const logs = child.logs();
  assert.equal(logs.length, 200);
  assert.ok(logs.includes('out-300') && logs.includes('err-300'));
  assert.ok(!logs.includes('out-1'));
});

test('env values and URL credentials never reach the log; env names do', async (t) => {
  const lines: string[] = [];
  const sink = new Writable({ write: (chunk, _enc, done) => (lines.push(String(chunk)), done()) });
  const { sup, events } = await startHarness(t, {}, pino({ level: 'debug' }, sink));
  const child = sup.spawn({
    name: 'secretive',
    kind: 'other',
    command: 'sh',
    args: ['-c', 'echo "pulling $0"; echo "token is set: ${CAM_TOKEN:+yes}"', 'rtsp://admin:hunter2@10.0.0.9/live'],
    env: { CAM_TOKEN: 'tok-5up3r-s3cr3t' },
    restart: 'never',
  });
  await events.waitFor('child.exited');
  await sleep(50);
  const all = lines.join('');
  assert.ok(all.includes('CAM_TOKEN'), 'env names are logged');
  assert.ok(!all.includes('tok-5up3r-s3cr3t'), 'env values are not');
  assert.ok(!all.includes('hunter2'), 'URL passwords are masked in argv and output');
  assert.ok(child.logs().includes('pulling rtsp://admin:***@10.0.0.9/live'));
  assert.ok(child.logs().includes('token is set: yes'), 'the child did get the env');
});

test('spawn() before start(), and progress on a non-ffmpeg child, are programming errors', async (t) => {
  const { sup } = await startHarness(t);
  assert.throws(
    () => sup.spawn({ name: 'p', kind: 'node', command: 'node', args: [], progress: true }),
    /only for kind 'ffmpeg'/,
  );
  await sup.stop();
  assert.throws(() => sup.spawn({ name: 'late', kind: 'other', command: 'true', args: [] }), /Supervisor is stopped/);
});
