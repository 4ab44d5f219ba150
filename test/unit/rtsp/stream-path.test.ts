/**
 * StreamPath's RTP-Info: every track's rtptime must name the same instant, or readers that re-base on the first sender
 * report (ffmpeg) see one track jump — backwards for audio, which arrives later than the video it belongs to.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseSdp, type SessionDescription } from '../../../app/media/rtsp/sdp.js';
import { StreamPath, type ReaderSink } from '../../../app/media/rtsp/stream-path.js';

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

const SOURCE = { remote: 'test', transport: 'tcp' as const, kick: () => undefined };

function path(): StreamPath {
  return new StreamPath('cam', parseSdp(SDP) as SessionDescription, SOURCE);
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
  p.writeRtcp(SOURCE, 0, senderReport(NTP, VIDEO0));
  p.writeRtcp(SOURCE, 1, senderReport(NTP, AUDIO0));
  // The latest video packet was captured 1.0 s after the report; the latest audio packet, arriving at the same
  // moment, holds samples from 0.85 s (audio packets carry ~150 ms and are sent when full).
  p.writeRtp(SOURCE, 0, rtp(VIDEO0 + 90_000));
  p.writeRtp(SOURCE, 1, rtp(AUDIO0 + 0.85 * 48_000));
  const [video, audio] = rtptimes(p);
  const videoAt = ((video! - VIDEO0) | 0) / 90_000;
  const audioAt = (audio! - AUDIO0) / 48_000;
  assert.ok(videoAt >= 1 && videoAt < 1.1, `video instant ${videoAt}`);
  assert.ok(Math.abs(audioAt - videoAt) < 0.001, `audio ${audioAt} s vs video ${videoAt} s`);
});

test('a report in a compound RTCP packet counts; a receiver report or garbage does not replace it', () => {
  const p = path();
  p.writeRtcp(SOURCE, 0, senderReport(NTP, VIDEO0));
  p.writeRtcp(SOURCE, 1, Buffer.concat([senderReport(NTP + 2, AUDIO0), Buffer.from([0x81, 202, 0, 1, 0, 0, 0, 0])]));
  p.writeRtcp(SOURCE, 1, Buffer.from([0x80, 201, 0, 1, 0, 0, 0, 0]));
  p.writeRtcp(SOURCE, 1, Buffer.from('garbage'));
  p.writeRtp(SOURCE, 0, rtp(VIDEO0 + 2 * 90_000));
  p.writeRtp(SOURCE, 1, rtp(AUDIO0));
  const [video, audio] = rtptimes(p);
  assert.ok(Math.abs(((video! - VIDEO0) | 0) / 90_000 - 2) < 0.1);
  assert.ok(Math.abs((audio! - AUDIO0) / 48_000) < 0.1, `audio ${audio}`);
});

test('without a report for every flowing track, each track is extrapolated from its last packet', () => {
  const p = path();
  p.writeRtcp(SOURCE, 0, senderReport(NTP, VIDEO0));
  p.writeRtp(SOURCE, 0, rtp(VIDEO0 + 90_000));
  p.writeRtp(SOURCE, 1, rtp(AUDIO0 + 0.85 * 48_000));
  const [video, audio] = rtptimes(p);
  assert.ok(video! - (VIDEO0 + 90_000) < 900, `video ${video}`);
  assert.ok(audio! - (AUDIO0 + 0.85 * 48_000) < 480, `audio ${audio}`);
});

test('no RTP yet: no RTP-Info', () => {
  assert.equal(path().rtpInfo('rtsp://h/cam'), undefined);
});

/** A reader sink that records what it gets. */
function recorder(): { sink: ReaderSink; rtp: Buffer[]; rtcp: Buffer[]; closed: string[] } {
  const got = { rtp: [] as Buffer[], rtcp: [] as Buffer[], closed: [] as string[] };
  const sink: ReaderSink = {
    remote: 'reader',
    transport: 'tcp',
    sendRtp: (_t, p) => (got.rtp.push(p), true),
    sendRtcp: (_t, p) => void got.rtcp.push(p),
    close: (reason) => void got.closed.push(reason),
  };
  return { sink, ...got };
}

function rtpOf(seq: number, timestamp: number, ssrc: number): Buffer {
  const b = rtp(timestamp);
  b.writeUInt16BE(seq, 2);
  b.writeUInt32BE(ssrc, 8);
  return b;
}

const head = (b: Buffer) => [b.readUInt16BE(2), b.readUInt32BE(4), b.readUInt32BE(8)];

test('a new source continues the output: same SSRC, next sequence number, RTP time advanced by the gap', async () => {
  const p = path();
  const reader = recorder();
  p.addReader(reader.sink);
  for (let i = 0; i < 3; i++) p.writeRtp(SOURCE, 1, rtpOf((65534 + i) & 0xffff, 4_294_967_000 + i * 1024, 0xaaaa));
  const next = { remote: 'next', transport: 'tcp' as const, kick: () => undefined };
  p.detach();
  p.writeRtp(SOURCE, 1, rtpOf(1, 1, 0xaaaa)); // the old source is no longer heard
  await new Promise((r) => setTimeout(r, 100));
  p.attach(next);
  p.writeRtp(SOURCE, 1, rtpOf(2, 2, 0xaaaa));
  p.writeRtp(next, 1, rtpOf(500, 7_000_000, 0xbbbb));
  p.writeRtp(next, 1, rtpOf(501, 7_001_024, 0xbbbb));
  p.writeRtcp(next, 1, senderReport(NTP, 7_000_000));
  assert.deepEqual(
    reader.rtp.map(head).map(([seq]) => seq),
    [65534, 65535, 0, 1, 2],
  );
  const [last, first, second] = reader.rtp.slice(2).map(head);
  assert.ok(
    reader.rtp.every((b) => b.readUInt32BE(8) === 0xaaaa),
    'one SSRC',
  );
  const gap = ((first![1]! - last![1]!) | 0) / 48_000;
  assert.ok(gap >= 0.09 && gap < 0.5, `RTP time gap ${gap} s ≈ the wall-clock gap`);
  assert.equal((second![1]! - first![1]!) | 0, 1024);
  const sr = reader.rtcp[0]!;
  assert.equal(sr.readUInt32BE(4), 0xaaaa);
  assert.equal(sr.readUInt32BE(16), first![1]!, 'the report is in output RTP time');
});

test('after attach, readers of a video track wait for the new source’s key frame', () => {
  const p = path();
  const reader = recorder();
  p.addReader(reader.sink);
  const idr = (seq: number) => {
    const b = rtpOf(seq, seq * 3600, 1);
    b[12] = 0x65; // IDR NAL
    return b;
  };
  const nonIdr = (seq: number) => {
    const b = rtpOf(seq, seq * 3600, 1);
    b[12] = 0x41;
    return b;
  };
  p.writeRtp(SOURCE, 0, idr(1));
  p.writeRtp(SOURCE, 0, nonIdr(2));
  const next = { remote: 'next', transport: 'tcp' as const, kick: () => undefined };
  p.detach();
  p.attach(next);
  p.writeRtp(next, 0, nonIdr(10));
  p.writeRtp(next, 0, idr(11));
  assert.deepEqual(
    reader.rtp.map((b) => b[12]),
    [0x65, 0x41, 0x65],
  );
});
