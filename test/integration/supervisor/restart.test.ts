import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isRunning, processesWithMarker, waitUntil } from '../../helpers/processes.js';
import { FAST, FFMPEG, startHarness, testsrcArgs } from './harness.js';

test('kill -9 of the child → child.exited, then a restart after the backoff', async (t) => {
  const { sup, events, marker } = await startHarness(t);
  const child = sup.spawn({ name: 'cam', kind: 'ffmpeg', command: FFMPEG, args: testsrcArgs(marker), progress: true });
  const first = await events.waitFor('child.started');
  await events.waitFor('child.progress'); // running for real, not just forked

  process.kill(first.pid, 'SIGKILL');
  const exited = await events.waitFor('child.exited');
  const exitedAt = performance.now();
  assert.deepEqual([exited.pid, exited.code, exited.signal], [first.pid, null, 'SIGKILL']);
  const restarting = await events.waitFor('child.restarting');
  assert.equal(restarting.attempt, 2);
  assert.ok(
    restarting.delayMs >= FAST.backoffInitialMs * 0.8 && restarting.delayMs <= FAST.backoffInitialMs * 1.2,
    `delay ${restarting.delayMs}`,
  );
  const mark = events.mark();
  const second = await events.waitFor('child.started', (d) => d.attempt === 2);
  const waitedMs = performance.now() - exitedAt;
  assert.ok(
    waitedMs >= restarting.delayMs - 5,
    `restarted after ${waitedMs} ms, before the ${restarting.delayMs} ms backoff`,
  );
  assert.notEqual(second.pid, first.pid);
  assert.equal(child.status().restarts, 1);
  assert.deepEqual(child.status().lastExit?.signal, 'SIGKILL');
  await events.waitFor('child.progress', () => true, { since: mark });
  assert.equal(processesWithMarker(marker).length, 1, 'exactly one ffmpeg runs after the restart');
});

test('kill -STOP of the child → stall detected, the frozen child killed and restarted', async (t) => {
  const { sup, events, marker } = await startHarness(t);
  sup.spawn({
    name: 'frozen',
    kind: 'ffmpeg',
    command: FFMPEG,
    args: testsrcArgs(marker),
    progress: true,
    stallTimeoutMs: 800,
  });
  const first = await events.waitFor('child.started');
  await events.waitFor('child.progress');

  process.kill(first.pid, 'SIGSTOP');
  const frozenAt = performance.now();
  const stalled = await events.waitFor('child.stalled');
  const detectedMs = performance.now() - frozenAt;
  assert.equal(stalled.pid, first.pid);
  assert.ok(stalled.silentMs >= 800, `silentMs ${stalled.silentMs}`);
  assert.ok(detectedMs < 800 + 400, `stall detected ${detectedMs} ms after the freeze`);
  const exited = await events.waitFor('child.exited');
  assert.equal(exited.signal, 'SIGKILL', 'a stopped process must be SIGKILLed, SIGTERM would wait for SIGCONT');
  await waitUntil(() => !isRunning(first.pid), 1000, 'the frozen ffmpeg to be gone');
  const mark = events.mark();
  const second = await events.waitFor('child.started', (d) => d.attempt === 2);
  assert.notEqual(second.pid, first.pid);
  t.diagnostic(`stall detected ${Math.round(detectedMs)} ms after SIGSTOP (timeout 800 ms)`);
  await events.waitFor('child.progress', () => true, { since: mark });
  assert.equal(processesWithMarker(marker).length, 1);
});
