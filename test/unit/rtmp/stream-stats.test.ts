/** Per-stream figures from the publisher's messages, on a fake clock. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { NmsAvPacket } from '../../../app/media/rtmp/nms-types.js';
import { StreamStats } from '../../../app/media/rtmp/stream-stats.js';

const SPS_640x360 = Buffer.from('6742c01eda0280bfe5c044000003000400000300c83c58ba80', 'hex');
const PPS = Buffer.from('68ce0fc8', 'hex');
const INFO = { app: 'live', name: 'cam1', id: 's1', remote: '127.0.0.1:5000' };

function pkt(codec_type: number, dts: number, bytes: Buffer | number[]): NmsAvPacket {
  const data = Buffer.from(bytes);
  // NMS hands out its parser buffer, larger than the message: the stats must respect `size`.
  return {
    codec_type,
    dts,
    pts: dts,
    flags: 0,
    codec_id: 0,
    size: data.length,
    data: Buffer.concat([data, Buffer.alloc(64, 0xff)]),
  };
}

function avcConfig(): Buffer {
  const len = (b: Buffer): Buffer => Buffer.from([b.length >> 8, b.length & 0xff]);
  const record = [
    Buffer.from([1, 0x42, 0xc0, 0x1e, 0xff, 0xe1]),
    len(SPS_640x360),
    SPS_640x360,
    Buffer.from([1]),
    len(PPS),
    PPS,
  ];
  return Buffer.concat([Buffer.from([0x17, 0, 0, 0, 0]), ...record]);
}

test('codec, resolution, audio config, fps, bitrate and key frame interval', () => {
  const t0 = 1_000_000;
  const stats = new StreamStats(INFO, 5000, t0);
  let bytes = 0;
  stats.onPacket(pkt(9, 0, avcConfig()), (bytes += 100), t0);
  stats.onPacket(pkt(8, 0, [0xaf, 0, 0x11, 0x90]), (bytes += 10), t0); // AAC LC 48 kHz stereo
  for (let i = 0; i < 25 * 8; i++) {
    const now = t0 + i * 40;
    stats.onPacket(pkt(9, i * 40, [i % 50 === 0 ? 0x17 : 0x27, 1, 0, 0, 0, 0, 0, 0, 1]), (bytes += 10_000), now);
    stats.onPacket(pkt(8, i * 40, [0xaf, 1, 0x21]), (bytes += 250), now);
  }
  const s = stats.snapshot({ inBytes: bytes, videoWidth: 0, videoHeight: 0, players: 2 }, t0 + 8000);
  assert.equal(s.videoCodec, 'H264');
  assert.equal(s.audioCodec, 'AAC');
  assert.deepEqual([s.width, s.height], [640, 360]);
  assert.deepEqual([s.audioSampleRate, s.audioChannels], [48000, 2]);
  assert.equal(s.videoFrames, 200);
  assert.equal(s.audioFrames, 200);
  assert.equal(s.keyframeIntervalMs, 2000);
  assert.equal(s.gopFrames, 50);
  assert.ok(Math.abs(s.fps - 25) < 0.6, `fps ${s.fps}`);
  // 25 × 10 250 bytes per second = 2050 kbit/s.
  assert.ok(Math.abs(s.bitrateKbps - 2050) < 60, `bitrate ${s.bitrateKbps}`);
  assert.equal(s.uptimeMs, 8000);
  assert.equal(s.players, 2);
  assert.equal(s.name, 'cam1');
});

test('the rates fall to zero when the publisher goes quiet; metadata size is the fallback', () => {
  const stats = new StreamStats(INFO, 2000, 0);
  for (let i = 0; i < 50; i++) stats.onPacket(pkt(9, i * 40, [0x27, 1, 0, 0, 0]), i * 1000, i * 40);
  const s = stats.snapshot({ inBytes: 49_000, videoWidth: 1280, videoHeight: 720, players: 0 }, 10_000);
  assert.equal(s.bitrateKbps, 0);
  assert.equal(s.fps, 0);
  assert.deepEqual([s.width, s.height], [1280, 720]);
  assert.equal(s.keyframeIntervalMs, null);
});

test('enhanced RTMP FourCCs, legacy codecs, and garbage never throw', () => {
  const hevc = new StreamStats(INFO, 5000, 0);
  hevc.onPacket(pkt(9, 0, [0x90, ...Buffer.from('hvc1')]), 1, 0);
  hevc.onPacket(pkt(8, 0, [0x90, ...Buffer.from('Opus')]), 1, 0);
  const s = hevc.snapshot({ inBytes: 1, videoWidth: 0, videoHeight: 0, players: 0 }, 1);
  assert.deepEqual([s.videoCodec, s.audioCodec], ['H265', 'Opus']);
  const junk = new StreamStats(INFO, 5000, 0);
  for (let i = 0; i < 2000; i++) {
    const bytes = Array.from({ length: i % 20 }, () => Math.floor(Math.random() * 256));
    assert.doesNotThrow(() => junk.onPacket(pkt(8 + (i % 2), i, bytes), i, i));
  }
  assert.doesNotThrow(() => junk.onPacket(pkt(9, 0, [0x17, 0, 0, 0, 0, 1, 2, 3, 4, 5, 0xe1, 0xff, 0xff]), 0, 0));
});
