/** RtpToFlv: FLV tags → FlvToRtpBridge → RTP → RtpToFlv gives the same pictures and frames back; losses and junk. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FlvToRtpBridge, type RtpSink } from '../../../app/media/bridge/index.js';
import { avcConfigRecord, RtpToFlv, type FlvPacket } from '../../../app/media/bridge/rtp-to-flv.js';
import { splitNalus } from '../../../app/media/bridge/flv-tags.js';
import { silentLogger } from '../../../app/log/logger.js';
import { audioConfigTag, audioFrameTag, idr, lcg, PPS, SPS, slice, videoConfigTag, videoFrameTag } from './fixtures.js';

interface Loop {
  out: FlvPacket[];
  rtp: [number, Buffer][];
  sdp: string;
  /** Sends the RTP recorded so far (all, or those `keep` accepts) into a fresh RtpToFlv. */
  replay(keep?: (i: number, track: number, packet: Buffer) => boolean): FlvPacket[];
}

/** 25 fps, key frame every 25, AAC 48 kHz: FLV tags through the real bridge; the RTP is recorded. */
function loop(seconds: number, pictureSize = 3000): Loop {
  const rtp: [number, Buffer][] = [];
  let sdp = '';
  let wall = 0;
  const bridge = new FlvToRtpBridge({
    path: 'cam',
    log: silentLogger(),
    now: () => wall,
    senderReportIntervalMs: 0,
    publish: (_p, text): RtpSink => {
      sdp = text;
      return { writeRtp: (t, p) => rtp.push([t, p]) > 0, writeRtcp: () => true, close: () => {} };
    },
  });
  bridge.onTag(9, 0, videoConfigTag());
  bridge.onTag(8, 0, audioConfigTag());
  for (let i = 0; i < seconds * 25; i++) {
    const ms = i * 40;
    bridge.onTag(9, ms, videoFrameTag(i % 25 === 0, [i % 25 === 0 ? idr(pictureSize) : slice(400 + i)]));
    for (let a = Math.ceil((ms * 48) / 1024); (a * 1024) / 48 < ms + 40; a++) {
      bridge.onTag(8, Math.round((a * 1024) / 48), audioFrameTag(Buffer.alloc(150 + (a % 50), a & 0xff)));
    }
    wall += 40;
  }
  const replay = (keep: (i: number, track: number, packet: Buffer) => boolean = () => true) => {
    const out: FlvPacket[] = [];
    const sink = new RtpToFlv(
      sdp,
      (p) => out.push(p),
      () => 0,
    );
    rtp.forEach(([track, packet], i) => keep(i, track, packet) && sink.writeRtp(track, packet));
    return out;
  };
  return { out: replay(), rtp, sdp, replay };
}

const pictures = (out: FlvPacket[]) => out.filter((p) => p.flags === 3 || p.flags === 4);

test('pictures and audio frames come back whole, in order, with their times; configs first', () => {
  const { out } = loop(2);
  const first = (flags: number) => out.findIndex((p) => p.flags === flags);
  assert.ok(first(2) === 0 && first(3) === 1, 'the video config precedes the first picture');
  assert.ok(first(0) >= 0 && first(0) < first(1), 'the audio config precedes the first audio frame');
  assert.deepEqual(out[0]!.body.subarray(5), avcConfigRecord(SPS.high640x360, PPS));
  assert.deepEqual(out[first(0)]!.body, audioConfigTag());
  const video = pictures(out);
  assert.equal(video.length, 50);
  video.forEach((p, i) => {
    assert.equal(p.flags, i % 25 === 0 ? 3 : 4);
    assert.equal(p.timestampMs, i * 40);
    // The bridge sends SPS+PPS in-band before each IDR; they are config, not picture data.
    assert.deepEqual(splitNalus(p.body.subarray(5), 4), [i % 25 === 0 ? idr(3000) : slice(400 + i)]);
  });
  const audio = out.filter((p) => p.flags === 1);
  assert.ok(audio.length >= 90, `${audio.length} AAC frames`);
  audio.forEach((p, i) => {
    assert.equal(p.body[0], 0xaf);
    assert.equal(p.body.length, 2 + 150 + (i % 50));
    assert.ok(Math.abs(p.timestampMs - (i * 1024) / 48) <= 1, `frame ${i} at ${p.timestampMs} ms`);
  });
});

test('a lost packet drops its picture and the rest of the GOP; the next key frame resumes', () => {
  const l = loop(3, 6000); // 6000-byte IDRs: FU-A fragments
  const videoTrack = l.rtp[0]![0];
  let videoSeen = 0;
  // The 12th video packet is a P picture early in the first GOP (SPS, PPS and the IDR's fragments come first).
  const out = l.replay((_i, track) => track !== videoTrack || ++videoSeen !== 12);
  const times = pictures(out).map((p) => p.timestampMs);
  const lostGop = times.filter((t) => t >= 0 && t < 1000);
  assert.ok(lostGop.length < 25 && lostGop.length > 0, `${lostGop.length} pictures of the broken GOP kept`);
  assert.equal(times.filter((t) => t >= 1000).length, 50, 'the next two GOPs are whole');
  assert.equal(pictures(out).find((p) => p.timestampMs === 1000)?.flags, 3);
});

test('nothing before the first key frame; junk never throws', () => {
  const l = loop(2);
  const videoTrack = l.rtp[0]![0];
  let skipping = true;
  // Start in the middle of the first GOP, as a reader joining late does.
  const out = l.replay((i, track, packet) => {
    if (track === videoTrack && i > 20 && (packet[12]! & 0x1f) === 7) skipping = false;
    return !skipping || track !== videoTrack ? true : false;
  });
  assert.equal(pictures(out)[0]?.flags, 3);
  // Random bytes can look like a picture or an AAC frame: what matters is no throw and well-formed output.
  const made: FlvPacket[] = [];
  const sink = new RtpToFlv(l.sdp, (p) => made.push(p));
  const rand = lcg(7);
  for (let i = 0; i < 2000; i++) {
    const junk = Buffer.alloc(rand() % 1500);
    for (let j = 0; j < junk.length; j++) junk[j] = rand() & 0xff;
    if (junk.length > 0) junk[0] = 0x80; // RTP version 2, so that parsing goes deep
    sink.writeRtp(i % 2, junk);
  }
  for (const p of made) assert.ok([8, 9].includes(p.type) && p.body.length >= 2 && p.timestampMs >= 0);
});

test('an SDP without H.264 or AAC is refused; other tracks are skipped by name', () => {
  assert.throws(() => new RtpToFlv('v=0\r\nm=audio 0 RTP/AVP 0\r\n', () => {}), /no H\.264 or AAC track/);
  const { sdp } = loop(1);
  const withOpus = `${sdp}m=audio 0 RTP/AVP 111\r\na=rtpmap:111 opus/48000/2\r\n`;
  assert.deepEqual(new RtpToFlv(withOpus, () => {}).skipped, ['audio opus']);
});
