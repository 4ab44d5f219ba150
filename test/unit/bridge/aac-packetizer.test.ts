/** RFC 3640 AAC-hbr layout, fragmentation of large frames, and the audio/FLV clocks. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AacPacketizer, MAX_AAC_FRAME } from '../../../app/media/bridge/aac-packetizer.js';
import { AudioClock, FlvTimeline, JUMP_MS } from '../../../app/media/bridge/timeline.js';

test('one frame per packet: AU-headers-length 16, AU-size (13 bits) + AU-index 0, then the frame; marker set', () => {
  const pk = new AacPacketizer({ ssrc: 0x01020304, initialSequence: 7, timestampOffset: 100, payloadType: 97 });
  const frame = Buffer.from(Array.from({ length: 371 }, (_, i) => i & 0xff));
  const [p, ...rest] = pk.packetize(frame, 1024);
  assert.equal(rest.length, 0);
  assert.deepEqual([...p!.subarray(0, 12)], [0x80, 0x80 | 97, 0, 7, 0, 0, 0x04, 0x64, 1, 2, 3, 4]);
  assert.equal(p!.readUInt16BE(12), 16, 'AU-headers-length in bits');
  assert.equal(p!.readUInt16BE(14) >> 3, 371, 'AU-size');
  assert.equal(p!.readUInt16BE(14) & 7, 0, 'AU-index');
  assert.deepEqual(p!.subarray(16), frame);
});

test('a frame over the budget is fragmented: every fragment has the whole AU-size, marker on the last', () => {
  const pk = new AacPacketizer({ maxPayloadBytes: 200, timestampOffset: 0 });
  const frame = Buffer.alloc(500, 0x5a);
  const packets = pk.packetize(frame, 2048);
  assert.equal(packets.length, 3);
  assert.ok(packets.every((p) => p.length <= 12 + 200 && p.readUInt32BE(4) === 2048));
  assert.ok(packets.every((p) => p.readUInt16BE(14) >> 3 === 500));
  assert.deepEqual(
    packets.map((p) => (p[1]! & 0x80) !== 0),
    [false, false, true],
  );
  assert.deepEqual(Buffer.concat(packets.map((p) => p.subarray(16))), frame);
  assert.deepEqual(pk.packetize(Buffer.alloc(MAX_AAC_FRAME + 1), 0), []);
  assert.deepEqual(pk.packetize(Buffer.alloc(0), 0), []);
});

test('AudioClock: exact frame steps although FLV ms are rounded, and ms → ticks for sender reports', () => {
  const clock = new AudioClock(48000, 1024);
  const ticks = Array.from({ length: 300 }, (_, i) => clock.next(Math.round((i * 1024 * 1000) / 48000) + 500));
  assert.equal(ticks[0], 24000);
  ticks.forEach((t, i) => assert.equal(t, 24000 + i * 1024));
  assert.equal(clock.reanchors, 0);
  // Sender reports agree with the packets' own clock: at the last frame's FLV time, its ticks exactly.
  const lastMs = Math.round((299 * 1024 * 1000) / 48000) + 500;
  assert.equal(clock.ticksAt(lastMs), 24000 + 299 * 1024);
  assert.equal(clock.ticksAt(lastMs + 1000), 24000 + 299 * 1024 + 48000);
});

test('AudioClock: jitter is ignored, a gap re-anchors (at once above 1 s, after 10 frames above 100 ms)', () => {
  const clock = new AudioClock(48000, 1024);
  const frameMs = 1024 / 48;
  let ms = 0;
  let last = -Infinity;
  const step = (jitter = 0) => {
    const t = clock.next(Math.round(ms + jitter));
    ms += frameMs;
    if (t !== undefined) {
      assert.ok(t > last, 'monotonic');
      last = t;
    }
    return t;
  };
  for (let i = 0; i < 100; i++) step(i % 2 ? 40 : -40);
  assert.equal(clock.reanchors, 0);
  ms += 1500; // a 1.5 s hole in the audio
  const resumed = Math.round(ms);
  assert.equal(step(), resumed * 48);
  assert.equal(clock.reanchors, 1);
  ms += 300; // a 300 ms hole is taken once it has lasted 10 frames
  for (let i = 0; i < 9; i++) step();
  assert.equal(clock.reanchors, 1);
  step();
  assert.equal(clock.reanchors, 2);
});

test('AudioClock: a count running ahead of FLV time drops frames instead of going back', () => {
  const clock = new AudioClock(48000, 1024);
  let ms = 0;
  const sent: number[] = [];
  // FLV time advances 10% slower than the samples: the source's audio clock is fast.
  for (let i = 0; i < 2000; i++, ms += (1024 / 48) * 0.9) {
    const t = clock.next(Math.round(ms));
    if (t !== undefined) sent.push(t);
  }
  assert.ok(clock.dropped > 150 && clock.dropped < 250, `dropped ${clock.dropped}`);
  assert.ok(sent.every((t, i) => i === 0 || t - sent[i - 1]! === 1024));
  const drift = sent[sent.length - 1]! / 48 - ms;
  assert.ok(Math.abs(drift) < 150, `drift ${drift} ms`);
});

test('FlvTimeline: 32-bit wrap is continuous, tracks share the first tag as origin, jumps become wall time', () => {
  let wall = 1_000_000;
  const tl = new FlvTimeline(() => wall);
  assert.equal(tl.toMs('video', 0xffffff00), 0);
  assert.equal(tl.toMs('audio', 0xffffff10), 16);
  assert.equal(tl.toMs('video', 0xffffff28), 40);
  assert.equal(tl.toMs('video', 0x00000050), 0x150); // wrapped
  assert.equal(tl.toMs('audio', 0x00000040), 0x140);
  assert.equal(tl.discontinuities, 0);
  wall += 2000;
  const stepped = 0x50 + 3_600_000; // the camera's clock jumped an hour ahead, 2 s after the last frame
  assert.equal(tl.toMs('video', stepped), 0x150 + 2000, 'continues at wall-clock pace');
  wall += 40;
  assert.equal(tl.toMs('video', stepped + 40), 0x150 + 2040);
  assert.equal(tl.toMs('video', stepped + 40 - JUMP_MS), 0x150 + 2040 - JUMP_MS, 'up to JUMP_MS is not a jump');
  assert.equal(tl.discontinuities, 1);
});
