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
  /** Sender reports, by the index of the RTP packet they followed. */
  reports: Map<number, [number, Buffer][]>;
  sdp: string;
  /**
   * Sends the RTP recorded so far (all, or those `keep` accepts) and the reports into a fresh RtpToFlv; `arrival`
   * is its clock when a packet of `track` arrives.
   */
  replay(keep?: (i: number, track: number, packet: Buffer) => boolean, arrival?: (track: number) => number): Replay;
}

interface Replay extends Array<FlvPacket> {
  sink: RtpToFlv;
}

/**
 * 25 fps, key frame every 25, AAC 48 kHz: FLV tags through the real bridge; the RTP (and, with `reportEveryMs`,
 * the sender reports) is recorded.
 */
function loop(seconds: number, pictureSize = 3000, reportEveryMs = 0): Loop {
  const rtp: [number, Buffer][] = [];
  const reports = new Map<number, [number, Buffer][]>();
  let sdp = '';
  let wall = 0;
  const bridge = new FlvToRtpBridge({
    path: 'cam',
    log: silentLogger(),
    now: () => wall,
    senderReportIntervalMs: reportEveryMs,
    publish: (_p, text): RtpSink => {
      sdp = text;
      const writeRtcp = (t: number, p: Buffer): boolean => {
        const after = rtp.length - 1;
        reports.set(after, [...(reports.get(after) ?? []), [t, p]]);
        return true;
      };
      return { writeRtp: (t, p) => rtp.push([t, p]) > 0, writeRtcp, close: () => {} };
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
  const replay: Loop['replay'] = (keep = () => true, arrival = () => 0) => {
    const out: FlvPacket[] = [];
    let clock = 0;
    const sink = new RtpToFlv(
      sdp,
      (p) => out.push(p),
      () => clock,
    );
    rtp.forEach(([track, packet], i) => {
      clock = arrival(track);
      if (keep(i, track, packet)) sink.writeRtp(track, packet);
      for (const [t, report] of reports.get(i) ?? []) sink.writeRtcp(t, report);
    });
    return Object.assign(out, { sink });
  };
  return { out: replay(), rtp, reports, sdp, replay };
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

test('sender reports line the tracks up when their first packets arrived apart; only ever forward', () => {
  // Audio "arrives" 300 ms after video: by arrival alone its frames land 300 ms late on the timeline.
  const lateAudio = (track: number) => (track === 1 ? 300 : 0);
  const audioAt = (out: FlvPacket[]) => out.filter((p) => p.flags === 1).map((p) => p.timestampMs);
  const withoutReports = loop(3).replay(undefined, lateAudio);
  assert.equal(withoutReports.sink.aligned, null);
  assert.ok(Math.abs(audioAt(withoutReports)[40]! - (300 + (40 * 1024) / 48)) <= 1, 'late by arrival');

  const l = loop(3, 3000, 1000);
  assert.ok(l.reports.size >= 4, `${l.reports.size} sender reports recorded`);
  const out = l.replay(undefined, lateAudio);
  // The reports say the tracks start together: video, the track that is behind, moves 300 ms later.
  assert.equal(out.sink.aligned?.track, 'video');
  assert.ok(Math.abs(out.sink.aligned.shiftMs - 300) <= 1, `shift ${out.sink.aligned.shiftMs} ms`);
  const video = pictures(out).map((p) => p.timestampMs);
  video.forEach((ms, i) => i > 0 && assert.ok(ms >= video[i - 1]!, `video time went back at picture ${i}`));
  // After the correction a picture and the audio frame of the same media time share a timestamp (±1 frame).
  const audio = audioAt(out);
  for (const i of [25, 50, 74]) {
    const frame = Math.round((i * 40 * 48) / 1024);
    assert.ok(Math.abs(video[i]! - audio[frame]!) <= 22, `picture ${i} at ${video[i]} ms, audio at ${audio[frame]} ms`);
  }
  // Reports that agree with arrival change nothing.
  const onTime = l.replay();
  assert.ok(Math.abs(onTime.sink.aligned?.shiftMs ?? 0) <= 1, `shift ${onTime.sink.aligned?.shiftMs} ms`);
});
