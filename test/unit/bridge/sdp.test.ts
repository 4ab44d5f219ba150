/** The bridge's SDP: the fields readers need, and what the RTSP server's own parser makes of it. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseFlvTag, type AacConfig } from '../../../app/media/bridge/flv-tags.js';
import { buildSdp, h264Fmtp } from '../../../app/media/bridge/sdp.js';
import { parseSdp, readerSdp } from '../../../app/media/rtsp/sdp.js';
import { audioConfigTag, PPS, SPS } from './fixtures.js';

const aac = (parseFlvTag(8, audioConfigTag(Buffer.from([0x11, 0x90]))) as { config: AacConfig }).config;
const video = { sps: [SPS.high640x360], pps: [PPS] };

test('H.264 + AAC: rtpmap, fmtp with profile-level-id from the SPS bytes, sprop in base64, config in hex', () => {
  const sdp = buildSdp({ name: 'cam1', sessionId: 42, sessionVersion: 3, video, audio: aac });
  assert.ok(sdp.endsWith('\r\n'));
  const lines = sdp.trimEnd().split('\r\n');
  assert.deepEqual(lines.slice(0, 4), ['v=0', 'o=- 42 3 IN IP4 127.0.0.1', 's=cam1', 'c=IN IP4 0.0.0.0']);
  assert.ok(lines.includes('t=0 0') && lines.includes('a=control:*'));
  const sprop = `${SPS.high640x360.toString('base64')},${PPS.toString('base64')}`;
  assert.deepEqual(lines.slice(lines.indexOf('m=video 0 RTP/AVP 96')), [
    'm=video 0 RTP/AVP 96',
    'a=rtpmap:96 H264/90000',
    `a=fmtp:96 packetization-mode=1;profile-level-id=64001e;sprop-parameter-sets=${sprop}`,
    'a=control:trackID=0',
    'm=audio 0 RTP/AVP 97',
    'a=rtpmap:97 MPEG4-GENERIC/48000/2',
    'a=fmtp:97 streamtype=5;profile-level-id=1;mode=AAC-hbr;sizelength=13;indexlength=3;indexdeltalength=3;config=1190',
    'a=control:trackID=1',
  ]);
});

test('the RTSP server accepts it as is: two tracks, codecs and clock rates, controls unchanged for readers', () => {
  const sdp = buildSdp({ name: 'cam1', sessionId: 1, sessionVersion: 1, video, audio: aac });
  const parsed = parseSdp(sdp);
  assert.ok(!('error' in parsed), JSON.stringify(parsed));
  assert.deepEqual(
    parsed.media.map((m) => [m.media, m.codec, m.clockRate, m.control]),
    [
      ['video', 'H264', 90000, 'trackID=0'],
      ['audio', 'MPEG4-GENERIC', 48000, 'trackID=1'],
    ],
  );
  assert.equal(readerSdp(parsed), sdp);
});

test('video only; several parameter sets; a hostile name cannot add SDP lines', () => {
  const sdp = buildSdp({ name: 'x\r\nm=audio 0', sessionId: 1, sessionVersion: 1, video });
  assert.equal(sdp.match(/^m=/gm)?.length, 1);
  assert.match(sdp, /^s=x__m=audio 0\r$/m);
  const two = h264Fmtp({ sps: [SPS.baseline720p, SPS.high1080p], pps: [PPS] });
  assert.match(two, /^packetization-mode=1;profile-level-id=42c01f;sprop-parameter-sets=[^,]+,[^,]+,[^,]+$/);
});
