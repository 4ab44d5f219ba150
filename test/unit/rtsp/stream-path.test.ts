/**
 * StreamPath's RTP-Info: every track's rtptime must name the same instant, or readers that re-base on the first sender
 * report (ffmpeg) see one track jump — backwards for audio, which arrives later than the video it belongs to.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseSdp, type SessionDescription } from '../../../app/media/rtsp/sdp.js';
import { StreamPath } from '../../../app/media/rtsp/stream-path.js';

const SDP = [
  'v=0',
  'o=- 0 0 IN IP4 127.0.0.1',
  's=test',
  't=0 0',
  'm=video 0 RTP/AVP 96',
  'a=rtpmap:96 H264/90000',
  'a=control:streamid=0',
  'm=audio 0 RTP/AVP 97',
  'a=rtpmap:97 MPEG4-GENERIC/48000/1',
  'a=control:streamid=1',
  '',
].join('\r\n');

function path(): StreamPath {
  const sdp = parseSdp(SDP) as SessionDescription;
  return new StreamPath('cam', sdp, { remote: 'test', transport: 'tcp', kick: () => undefined });
}

function rtp(timestamp: number): Buffer {
  const b = Buffer.alloc(20);
  b[0] = 0x80;
  b[1] = 96;
  b.writeUInt32BE(timestamp >>> 0, 4);
  return b;
}

function senderReport(ntpSeconds: number, timestamp: number): Buffer {
  const b = Buffer.alloc(28);
  b[0] = 0x80;
  b[1] = 200;
  b.writeUInt16BE(6, 2);
  b.writeUInt32BE(Math.floor(ntpSeconds), 8);
  b.writeUInt32BE(Math.round((ntpSeconds % 1) * 2 ** 32), 12);
  b.writeUInt32BE(timestamp >>> 0, 16);
  return b;
}

function rtptimes(p: StreamPath): number[] {
  const info = p.rtpInfo('rtsp://h/cam') ?? '';
  return info.split(',').map((part) => Number(/rtptime=(\d+)/.exec(part)?.[1]));
}

const NTP = 3_900_000_000.25;
const VIDEO0 = 4_294_000_000; // wraps within the test
const AUDIO0 = 1_000;

test('with sender reports, the rtptimes of all tracks name one instant of the source clock', () => {
  const p = path();
  p.writeRtcp(0, senderReport(NTP, VIDEO0));
  p.writeRtcp(1, senderReport(NTP, AUDIO0));
  // The latest video packet was captured 1.0 s after the report; the latest audio packet, arriving at the same
  // moment, holds samples from 0.85 s (audio packets carry ~150 ms and are sent when full).
  p.writeRtp(0, rtp(VIDEO0 + 90_000));
  p.writeRtp(1, rtp(AUDIO0 + 0.85 * 48_000));
  const [video, audio] = rtptimes(p);
  const videoAt = ((video! - VIDEO0) | 0) / 90_000;
  const audioAt = (audio! - AUDIO0) / 48_000;
  assert.ok(videoAt >= 1 && videoAt < 1.1, `video instant ${videoAt}`);
  assert.ok(Math.abs(audioAt - videoAt) < 0.001, `audio ${audioAt} s vs video ${videoAt} s`);
});

test('a report in a compound RTCP packet counts; a receiver report or garbage does not replace it', () => {
  const p = path();
  p.writeRtcp(0, senderReport(NTP, VIDEO0));
  p.writeRtcp(1, Buffer.concat([senderReport(NTP + 2, AUDIO0), Buffer.from([0x81, 202, 0, 1, 0, 0, 0, 0])]));
  p.writeRtcp(1, Buffer.from([0x80, 201, 0, 1, 0, 0, 0, 0]));
  p.writeRtcp(1, Buffer.from('garbage'));
  p.writeRtp(0, rtp(VIDEO0 + 2 * 90_000));
  p.writeRtp(1, rtp(AUDIO0));
  const [video, audio] = rtptimes(p);
  assert.ok(Math.abs(((video! - VIDEO0) | 0) / 90_000 - 2) < 0.1);
  assert.ok(Math.abs((audio! - AUDIO0) / 48_000) < 0.1, `audio ${audio}`);
});

test('without a report for every flowing track, each track is extrapolated from its last packet', () => {
  const p = path();
  p.writeRtcp(0, senderReport(NTP, VIDEO0));
  p.writeRtp(0, rtp(VIDEO0 + 90_000));
  p.writeRtp(1, rtp(AUDIO0 + 0.85 * 48_000));
  const [video, audio] = rtptimes(p);
  assert.ok(video! - (VIDEO0 + 90_000) < 900, `video ${video}`);
  assert.ok(audio! - (AUDIO0 + 0.85 * 48_000) < 480, `audio ${audio}`);
});

test('no RTP yet: no RTP-Info', () => {
  assert.equal(path().rtpInfo('rtsp://h/cam'), undefined);
});
