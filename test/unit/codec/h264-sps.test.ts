/** The SPS parser: displayed size after cropping (progressive, interlaced, 4:4:4), profile and level. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseSps, profileLevelId, unescapeRbsp } from '../../../app/media/codec/h264-sps.js';
import { lcg, SPS } from '../bridge/fixtures.js';

test('libx264 SPS → the sizes ffprobe reports', () => {
  const size = (sps: Buffer) => {
    const info = parseSps(sps);
    return info && `${info.width}x${info.height}`;
  };
  assert.equal(size(SPS.high640x360), '640x360');
  assert.equal(size(SPS.high1080p), '1920x1080');
  assert.equal(size(SPS.interlaced576), '720x576');
  assert.equal(size(SPS.baseline720p), '1280x720');
  assert.equal(size(SPS.yuv444p1080p), '1920x1080');
});

test('profile, level and codec strings come from the three bytes after the NAL header', () => {
  const info = parseSps(SPS.high640x360)!;
  assert.deepEqual([info.profileIdc, info.constraintFlags, info.levelIdc], [100, 0, 30]);
  assert.equal(info.codec, 'avc1.64001e');
  assert.equal(profileLevelId(SPS.baseline720p), '42c01f');
  assert.equal(parseSps(SPS.high1080p)!.codec, 'avc1.640028');
  assert.equal(parseSps(SPS.yuv444p1080p)!.codec, 'avc1.f40028');
});

test('emulation prevention bytes are removed before reading', () => {
  assert.deepEqual([...unescapeRbsp(Buffer.from([1, 0, 0, 3, 1, 0, 0, 3, 0, 3]))], [1, 0, 0, 1, 0, 0, 0, 3]);
});

test('not an SPS, truncated or random → undefined, never a throw', () => {
  assert.equal(parseSps(Buffer.from([0x68, 1, 2, 3])), undefined);
  assert.equal(parseSps(Buffer.alloc(0)), undefined);
  // The first 11 bytes hold every field up to the cropping window; the VUI after it is not read.
  for (let n = 1; n < 11; n++) assert.equal(parseSps(SPS.high640x360.subarray(0, n)), undefined, `first ${n} bytes`);
  assert.equal(parseSps(SPS.high640x360.subarray(0, 11))?.height, 360);
  const random = lcg(7);
  for (let i = 0; i < 20_000; i++) {
    const bytes = Buffer.from(Array.from({ length: 1 + (random() % 40) }, () => random() & 0xff));
    bytes[0] = 0x67;
    const info = parseSps(bytes);
    if (info) assert.ok(info.width > 0 && info.height > 0 && info.width <= 16384 && info.height <= 16384);
  }
});
