import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { registryPath, readRegistry } from '../../../app/supervisor/registry.js';
import { detachedDescendantsOf, membersOfGroups, processesWithMarker, waitUntil } from '../../helpers/processes.js';
import { FAST, FFMPEG, startHarness, testsrcArgs } from './harness.js';

test('stop() leaves no process behind: ffmpeg children, and a shell whose forks ignore SIGTERM', async (t) => {
  const { sup, events, marker, runDir } = await startHarness(t);
  sup.spawn({ name: 'a', kind: 'ffmpeg', command: FFMPEG, args: testsrcArgs(marker), progress: true });
  sup.spawn({ name: 'b', kind: 'ffmpeg', command: FFMPEG, args: testsrcArgs(marker) });
  // Forks two sleeps into its group and ignores SIGTERM: only the group-wide SIGKILL step can end it.
  const script = `trap '' TERM; sleep 30 & sleep 30 & echo ready; wait`;
  sup.spawn({ name: 'sh', kind: 'other', command: 'sh', args: ['-c', script, marker], stallTimeoutMs: null });
  await waitUntil(() => events.of('child.started').length === 3, 3000, 'three children to start');
  await waitUntil(() => sup.get('sh')!.logs().includes('ready'), 3000, 'the shell to fork');
  const pgids = events.pids();
  assert.equal(membersOfGroups(pgids).length, 5, 'two ffmpeg, one sh, two sleeps');
  assert.deepEqual(
    readRegistry(runDir)
      ?.children.map((c) => c.name)
      .sort(),
    ['a', 'b', 'sh'],
  );

  const t0 = performance.now();
  await sup.stop();
  const stopMs = performance.now() - t0;

  assert.deepEqual(membersOfGroups(pgids), [], 'no member of any child process group is left');
  assert.deepEqual(processesWithMarker(marker), [], 'no ffmpeg with our marker is left');
  assert.deepEqual(detachedDescendantsOf(process.pid), [], 'no descendant of the test process is left');
  assert.equal(existsSync(registryPath(runDir)), false, 'a clean stop removes the run file');
  assert.deepEqual(sup.list(), []);
  // q ends ffmpeg at once; the shell has no graceful step: SIGTERM (ignored), stopTimeoutMs, then SIGKILL.
  assert.ok(stopMs >= FAST.stopTimeoutMs && stopMs < 2 * FAST.stopTimeoutMs, `stop took ${stopMs} ms`);
  const sh = events.of('child.exited', 'sh')[0];
  assert.equal(sh?.signal, 'SIGKILL');
  t.diagnostic(`stop() with a SIGTERM-proof child took ${Math.round(stopMs)} ms (stopTimeoutMs ${FAST.stopTimeoutMs})`);
});

test('stop() of a SIGSTOP-frozen ffmpeg: q is not read, SIGTERM + SIGCONT ends it', async (t) => {
  const { sup, events, marker } = await startHarness(t);
  sup.spawn({
    name: 'frozen',
    kind: 'ffmpeg',
    command: FFMPEG,
    args: testsrcArgs(marker),
    progress: true,
    stallTimeoutMs: null,
  });
  const { pid } = await events.waitFor('child.started');
  await events.waitFor('child.progress');
  process.kill(pid, 'SIGSTOP');
  const t0 = performance.now();
  await sup.stop();
  const stopMs = performance.now() - t0;
  const exited = events.of('child.exited')[0];
  assert.notEqual(exited?.signal, 'SIGKILL', 'once continued, ffmpeg handles SIGTERM (or the queued q) itself');
  assert.ok(stopMs < 2 * FAST.stopTimeoutMs, `stop took ${stopMs} ms: SIGKILL should not have been needed`);
  assert.deepEqual(processesWithMarker(marker), []);
});

test('stop() cancels a pending backoff restart', async (t) => {
  const { sup, events, marker } = await startHarness(t, { backoffInitialMs: 300, backoffMaxMs: 300 });
  sup.spawn({ name: 'crashy', kind: 'other', command: 'sh', args: ['-c', 'exit 3', marker] });
  const restarting = await events.waitFor('child.restarting');
  assert.equal(sup.get('crashy')!.status().state, 'backoff');
  await sup.stop();
  await sleep(restarting.delayMs + 200);
  assert.equal(events.of('child.started').length, 1, 'no restart after stop()');
  assert.deepEqual(detachedDescendantsOf(process.pid), []);
});

test('remove() stops one child and keeps the others', async (t) => {
  const { sup, events, marker } = await startHarness(t);
  sup.spawn({ name: 'keep', kind: 'ffmpeg', command: FFMPEG, args: testsrcArgs(marker), progress: true });
  const gone = sup.spawn({ name: 'gone', kind: 'ffmpeg', command: FFMPEG, args: testsrcArgs(marker), progress: true });
  await waitUntil(() => events.of('child.started').length === 2, 3000, 'two children');
  const gonePid = gone.status().pid!;
  await sup.remove('gone');
  assert.equal(sup.get('gone'), undefined);
  assert.deepEqual(
    sup.list().map((s) => [s.name, s.state]),
    [['keep', 'running']],
  );
  assert.deepEqual(membersOfGroups([gonePid]), []);
  assert.equal(processesWithMarker(marker).length, 1);
  assert.throws(() => sup.spawn({ name: 'keep', kind: 'other', command: 'true', args: [] }), /already exists/);
});
