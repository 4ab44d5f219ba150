import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { isHeartbeat } from '../../../app/supervisor/worker.js';
import { detachedDescendantsOf } from '../../helpers/processes.js';
import { startHarness } from './harness.js';

const WORKER = fileURLToPath(new URL('./fixtures/echo-worker.ts', import.meta.url));
const REPO = fileURLToPath(new URL('../../../', import.meta.url));

test('a node worker with ipc: messages both ways, heartbeats keep the watchdog quiet, stop() = disconnect', async (t) => {
  const { sup, events, marker } = await startHarness(t, { stallTimeoutMs: 1000 }); // start-up window 2 s: tsx compiles the worker
  const worker = sup.spawn({
    name: 'echo',
    kind: 'node',
    command: process.execPath,
    args: ['--import', 'tsx', WORKER, marker],
    cwd: REPO, // where --import tsx is resolved
    ipc: true,
  });
  const received: unknown[] = [];
  const off = worker.onMessage((m) => received.push(m));
  t.after(off);
  assert.equal(worker.send('early'), true, 'the channel exists as soon as spawn() returns; node queues the message');
  await waitFor(() => received.some((m) => (m as { ready?: boolean }).ready === true), 5000);
  assert.equal(worker.send({ n: 1 }), true);
  const echoes = () =>
    received.flatMap((m) => ((m as { echo?: unknown }).echo === undefined ? [] : [(m as { echo: unknown }).echo]));
  await waitFor(() => echoes().length === 2, 2000);
  assert.deepEqual(echoes(), ['early', { n: 1 }]);

  await sleep(1300); // > stallTimeoutMs: only the heartbeats (every 200 ms) keep the worker from being taken for stalled
  assert.deepEqual(events.of('child.stalled'), []);
  assert.ok(!received.some(isHeartbeat), 'heartbeats are swallowed by the Supervisor');

  await sup.stop();
  const exited = events.of('child.exited')[0];
  // Exit code 0 without a signal: it left on 'disconnect' before the SIGTERM step (stopTimeoutMs later) came.
  assert.deepEqual([exited?.code, exited?.signal], [0, null], 'the worker exited by itself on disconnect');
  assert.equal(worker.send({ n: 2 }), false, 'no channel once stopped');
  assert.deepEqual(detachedDescendantsOf(process.pid), []);
});

test('a silent ipc worker (no heartbeats) is taken for stalled and restarted', async (t) => {
  const { sup, events } = await startHarness(t, { stallTimeoutMs: 500 });
  sup.spawn({
    name: 'mute',
    kind: 'node',
    command: process.execPath,
    args: ['--import', 'tsx', WORKER],
    cwd: REPO,
    env: { HEARTBEAT_MS: '0' },
    ipc: true,
  });
  const stalled = await events.waitFor('child.stalled', () => true, { timeoutMs: 5000 });
  assert.ok(stalled.silentMs >= 500);
  await events.waitFor('child.started', (d) => d.attempt === 2);
});

async function waitFor(check: () => boolean, timeoutMs: number): Promise<void> {
  const until = performance.now() + timeoutMs;
  while (!check()) {
    if (performance.now() > until) throw new Error('timed out');
    await sleep(10);
  }
}
