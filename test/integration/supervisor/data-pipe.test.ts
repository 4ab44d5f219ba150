/** The Supervisor's `dataPipe`: fd 3 of the child as a second output pipe (ffmpeg `pipe:3`), across restarts. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { detachedDescendantsOf } from '../../helpers/processes.js';
import { FFMPEG, startHarness } from './harness.js';

/** A real ffmpeg writing `frames` tiny JPEGs (5 fps) to fd 3, with -progress on stdout. */
function jpegArgs(frames: number, marker: string): string[] {
  return [
    ...['-hide_banner', '-nostdin', '-loglevel', 'error', '-re'],
    ...['-f', 'lavfi', '-i', 'testsrc2=size=64x48:rate=5', '-frames:v', String(frames)],
    ...['-metadata', `comment=${marker}`, '-c:v', 'mjpeg', '-f', 'image2pipe', 'pipe:3'],
  ];
}

const SOI = Buffer.from([0xff, 0xd8]);
const EOI = Buffer.from([0xff, 0xd9]);

test('dataPipe: ffmpeg pipe:3 reaches the listener with the attempt number; -progress stays on stdout', async (t) => {
  const { sup, events, marker } = await startHarness(t, { stallTimeoutMs: 2000 });
  const chunks = new Map<number, Buffer[]>();
  const child = sup.spawn({
    name: 'jpeg',
    kind: 'ffmpeg',
    command: FFMPEG,
    args: jpegArgs(3, marker),
    progress: true,
    restart: 'always',
    dataPipe: (chunk, attempt) => chunks.set(attempt, [...(chunks.get(attempt) ?? []), chunk]),
  });
  // Three frames, exit 0, restart ('always'), three more frames from attempt 2.
  await events.waitFor('child.exited', () => true, { timeoutMs: 8000 });
  await events.waitFor('child.exited', () => true, { timeoutMs: 8000, since: events.mark() });
  await sup.remove('jpeg');
  for (const attempt of [1, 2]) {
    const bytes = Buffer.concat(chunks.get(attempt) ?? []);
    assert.ok(bytes.length > 0, `attempt ${attempt} wrote to fd 3`);
    assert.ok(bytes.subarray(0, 2).equals(SOI), `attempt ${attempt} starts with a JPEG SOI`);
    assert.ok(bytes.subarray(-2).equals(EOI), `attempt ${attempt} ends with a JPEG EOI`);
    let frames = 0;
    for (let i = bytes.indexOf(SOI); i >= 0; i = bytes.indexOf(SOI, i + 2)) frames++;
    assert.equal(frames, 3, `attempt ${attempt}: 3 frames`);
  }
  assert.equal(child.status().progress?.state, 'end', '-progress was parsed from stdout as usual');
  assert.deepEqual(detachedDescendantsOf(process.pid), []);
});

test('dataPipe: refused together with ipc (both want fd 3)', async (t) => {
  const { sup } = await startHarness(t);
  assert.throws(
    () => sup.spawn({ name: 'both', kind: 'node', command: process.execPath, args: [], ipc: true, dataPipe: () => {} }),
    /fd 3/,
  );
});
