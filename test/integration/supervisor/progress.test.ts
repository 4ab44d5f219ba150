import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { processesWithMarker } from '../../helpers/processes.js';
import { FFMPEG, startHarness, testsrcArgs } from './harness.js';

test('progress of a real-time ffmpeg encode is parsed: fps ≈ 25, speed ≈ 1, frame increasing; q stops it cleanly', async (t) => {
  const { sup, events, marker } = await startHarness(t);
  const child = sup.spawn({
    name: 'pattern',
    kind: 'ffmpeg',
    command: FFMPEG,
    args: testsrcArgs(marker),
    progress: true,
  });
  const started = await events.waitFor('child.started');
  assert.equal(started.attempt, 1);
  assert.equal(child.status().pid, started.pid);
  assert.equal(child.status().state, 'running');

  await events.waitFor('child.progress');
  await sleep(2100); // measured from the first block: ffmpeg's start-up time varies with the machine's load
  const samples = events.of('child.progress', 'pattern').map((d) => d.progress);
  // ffmpeg reports every 500 ms: ~5 blocks in 2.1 s; the throttle must not let more than ~2/s through.
  assert.ok(samples.length >= 3 && samples.length <= 6, `${samples.length} progress events in 2.1 s`);
  const frames = samples.map((p) => p.frame ?? -1);
  for (let i = 1; i < frames.length; i++)
    assert.ok(frames[i]! > frames[i - 1]!, `frames not increasing: ${frames.join(',')}`);
  const last = samples.at(-1)!;
  assert.ok(last.fps! > 22 && last.fps! < 28, `fps ${last.fps}`);
  assert.ok(last.speed! > 0.9 && last.speed! < 1.1, `speed ${last.speed}`);
  assert.ok(last.outTimeMs! > 1500 && last.outTimeMs! < 3000, `outTimeMs ${last.outTimeMs}`);
  assert.ok(
    Math.abs(last.outTimeMs! - last.frame! * 40) <= 80,
    `out_time ${last.outTimeMs} ms vs frame ${last.frame} at 25 fps`,
  );
  assert.equal(last.state, 'continue');
  assert.equal(last.dropFrames, 0);
  assert.deepEqual(child.status().progress?.frame !== undefined, true);
  assert.ok(
    child.logs().some((l) => l.includes('testsrc2')),
    'stderr lines are kept',
  );
  assert.ok(!child.logs().some((l) => l.startsWith('frame=')), 'progress lines are not log lines');

  await sup.stop();
  const exited = events.of('child.exited', 'pattern');
  assert.equal(exited.length, 1);
  assert.deepEqual(
    [exited[0]!.code, exited[0]!.signal],
    [0, null],
    'q made ffmpeg exit on its own (SIGTERM would give 255)',
  );
  assert.equal(events.of('child.progress').at(-1)?.progress.state, 'end', 'the final block is always published');
  assert.deepEqual(processesWithMarker(marker), []);
  assert.equal(child.status().state, 'stopped');
});
