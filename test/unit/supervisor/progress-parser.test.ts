import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ChildProgress } from '../../../app/defs/child.js';
import { ProgressParser, parseClock } from '../../../app/supervisor/progress-parser.js';

function feed(text: string): ChildProgress[] {
  const parser = new ProgressParser();
  return text
    .trim()
    .split('\n')
    .map((l) => parser.push(l))
    .filter((p): p is ChildProgress => p !== undefined);
}

test('parses a block as printed by ffmpeg 5/6', () => {
  const [p] = feed(`
frame=26
fps=25.82
stream_0_0_q=-0.0
bitrate=1234.5kbits/s
total_size=160431
out_time_us=1040000
out_time_ms=1040000
out_time=00:00:01.040000
dup_frames=1
drop_frames=2
speed=1.03x
progress=continue`);
  assert.deepEqual(p, {
    frame: 26,
    fps: 25.82,
    bitrateKbps: 1234.5,
    totalSizeBytes: 160431,
    outTimeMs: 1040,
    dupFrames: 1,
    dropFrames: 2,
    speed: 1.03,
    state: 'continue',
  });
});

test('N/A, the negative start time and garbage become undefined; end is reported', () => {
  const [p] = feed(`
frame=0
fps=0.00
bitrate=N/A
total_size=N/A
out_time_us=-9223372036854775807
out_time=-2562047788:00:54.775807
speed=N/A
drop_frames=x
progress=end`);
  assert.deepEqual(p, { frame: 0, fps: 0, state: 'end' });
});

test('a block is only returned when progress= closes it; blocks do not leak into each other', () => {
  const parser = new ProgressParser();
  assert.equal(parser.push('frame=1'), undefined);
  assert.equal(parser.push('bitrate=10.0kbits/s'), undefined);
  assert.equal(parser.push('not a key value line'), undefined);
  assert.deepEqual(parser.push('progress=continue'), { frame: 1, bitrateKbps: 10, state: 'continue' });
  assert.deepEqual(parser.push('progress=continue'), { state: 'continue' });
});

test('out_time is used when out_time_us is absent (old ffmpeg builds)', () => {
  const [p] = feed('out_time=01:02:03.500000\nprogress=continue');
  assert.equal(p?.outTimeMs, 3_723_500);
  assert.equal(parseClock('00:00:00.040000'), 40);
  assert.equal(parseClock('nonsense'), undefined);
});
