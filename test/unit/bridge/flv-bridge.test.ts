/** FlvToRtpBridge with a recording sink: when it publishes, what it re-publishes, stats, reports, failures. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FlvToRtpBridge, type BridgeLog, type RtpSink } from '../../../app/media/bridge/index.js';
import {
  asc,
  audioConfigTag,
  audioFrameTag,
  idr,
  lcg,
  PPS,
  SPS,
  slice,
  videoConfigTag,
  videoFrameTag,
} from './fixtures.js';

interface Published {
  sdp: string;
  rtp: [number, Buffer][];
  rtcp: [number, Buffer][];
  closed: boolean;
}

function harness(opts: { accept?: () => boolean; throws?: boolean } = {}) {
  const published: Published[] = [];
  const logs: { level: string; msg: string }[] = [];
  let wall = 1_000_000;
  const log: BridgeLog = {
    info: (_o, msg) => logs.push({ level: 'info', msg }),
    warn: (_o, msg) => logs.push({ level: 'warn', msg }),
    error: (_o, msg) => logs.push({ level: 'error', msg }),
  };
  const bridge = new FlvToRtpBridge({
    path: 'cam1',
    log,
    now: () => wall,
    publish: (_path, sdp): RtpSink => {
      if (opts.throws) throw new Error('server stopped');
      const p: Published = { sdp, rtp: [], rtcp: [], closed: false };
      published.push(p);
      return {
        writeRtp: (track, packet) => (opts.accept?.() ?? true) && !p.closed && p.rtp.push([track, packet]) > 0,
        writeRtcp: (track, packet) => !p.closed && p.rtcp.push([track, packet]) > 0,
        close: () => void (p.closed = true),
      };
    },
  });
  /** 25 fps video with a key frame every `gop` frames and AAC at 48 kHz in between, starting at `fromMs`. */
  const feed = (seconds: number, fromMs = 0, gop = 25, audio = true) => {
    const frames = seconds * 25;
    for (let i = 0; i < frames; i++) {
      const ms = fromMs + i * 40;
      bridge.onTag(9, ms, videoFrameTag(i % gop === 0, [i % gop === 0 ? idr(3000) : slice(400)]));
      if (audio) {
        for (let a = Math.ceil((ms * 48) / 1024); (a * 1024) / 48 < ms + 40; a++) {
          bridge.onTag(8, Math.round((a * 1024) / 48), audioFrameTag(Buffer.alloc(200, a & 0xff)));
        }
      }
      wall += 40;
    }
  };
  return { bridge, published, logs, feed, advance: (ms: number) => (wall += ms) };
}

test('publishes at the first key frame after the sequence header, with audio when its config came first', () => {
  const { bridge, published, feed } = harness();
  bridge.onTag(18, 0, Buffer.from('onMetaData'));
  bridge.onTag(9, 0, videoFrameTag(true, [idr(100)])); // before the sequence header: dropped
  bridge.onTag(9, 0, videoConfigTag());
  bridge.onTag(8, 0, audioConfigTag());
  bridge.onTag(9, 0, videoFrameTag(false, [slice(100)])); // not a key frame: dropped
  assert.equal(published.length, 0);
  feed(2);
  assert.equal(published.length, 1);
  const [pub] = published;
  assert.match(pub!.sdp, /m=video .*\r\n[^]*m=audio 0 RTP\/AVP 97\r\na=rtpmap:97 MPEG4-GENERIC\/48000\/2/);
  assert.equal(bridge.sdp, pub!.sdp);
  const first = pub!.rtp.find(([track]) => track === 0)![1];
  assert.equal(first[12]! & 0x1f, 7, 'the stream starts with the SPS in front of the IDR');
  const s = bridge.stats();
  assert.equal(s.state, 'live');
  assert.deepEqual([s.video.codec, s.video.width, s.video.height], ['avc1.64001e', 640, 360]);
  assert.deepEqual([s.video.frames, s.video.keyframes, s.video.keyframeIntervalFrames, s.video.fps], [50, 2, 25, 25]);
  assert.equal(s.video.keyframeIntervalS, 1);
  assert.equal(s.droppedWaiting, 2);
  assert.deepEqual([s.audio?.codec, s.audio?.sampleRate, s.audio?.channels], ['mp4a.40.2', 48000, 2]);
  assert.ok(s.audio!.frames >= 90 && s.audio!.frames === s.audio!.packets, JSON.stringify(s.audio));
  assert.equal(s.video.packets, pub!.rtp.filter(([track]) => track === 0).length);
  assert.ok(s.bytesIn > 50 * 400 && s.tagsIn > 140);
});

test('audio timestamps step by 1024 samples; video by 3600 ticks; marker closes each frame', () => {
  const { bridge, published, feed } = harness();
  bridge.onTag(9, 0, videoConfigTag());
  bridge.onTag(8, 0, audioConfigTag());
  feed(2);
  const ts = (track: number) => published[0]!.rtp.filter(([t]) => t === track).map(([, p]) => p.readUInt32BE(4));
  const audio = ts(1);
  assert.ok(audio.slice(1).every((t, i) => (t - audio[i]! + 2 ** 32) % 2 ** 32 === 1024));
  const video = [...new Set(ts(0))];
  assert.equal(video.length, 50);
  assert.ok(video.slice(1).every((t, i) => (t - video[i]! + 2 ** 32) % 2 ** 32 === 3600));
  const markers = published[0]!.rtp.filter(([t, p]) => t === 0 && p[1]! & 0x80).length;
  assert.equal(markers, 50);
});

test('video only: publishes without audio and stays so; a late audio config re-publishes with audio', () => {
  const { bridge, published, feed } = harness();
  bridge.onTag(9, 0, videoConfigTag());
  feed(1, 0, 25, false);
  assert.equal(published.length, 1);
  assert.doesNotMatch(published[0]!.sdp, /m=audio/);
  bridge.onTag(8, 1000, audioFrameTag(Buffer.alloc(10))); // no config yet: nothing to send it with
  assert.equal(bridge.stats().audio, undefined);
  bridge.onTag(8, 1000, audioConfigTag(asc({ objectType: 2, rateIndex: 4, channels: 1 })));
  assert.equal(published.length, 2);
  assert.equal(published[0]!.closed, false, 'the server, not the bridge, replaces the old publication');
  assert.match(published[1]!.sdp, /a=rtpmap:97 MPEG4-GENERIC\/44100\/1/);
  assert.match(published[1]!.sdp, /^o=- \d+ 2 IN IP4/m);
  feed(1, 1040);
  assert.ok(published[1]!.rtp.some(([track]) => track === 1));
  assert.equal(bridge.stats().publishes, 2);
});

test('an identical sequence header changes nothing; new SPS/PPS re-publish with the new size', () => {
  const { bridge, published, feed } = harness();
  bridge.onTag(9, 0, videoConfigTag());
  feed(1, 0, 25, false);
  bridge.onTag(9, 1000, videoConfigTag());
  bridge.onTag(8, 1000, Buffer.from([0x2f, 0xff])); // MP3: unsupported, no re-publish
  assert.equal(published.length, 1);
  bridge.onTag(9, 1000, videoConfigTag([SPS.high1080p], [PPS]));
  assert.equal(published.length, 2);
  assert.match(published[1]!.sdp, /profile-level-id=640028/);
  feed(1, 1000, 25, false);
  const s = bridge.stats();
  assert.deepEqual([s.video.width, s.video.height, s.publishes, s.unsupported], [1920, 1080, 2, 1]);
  assert.match(s.lastProblem ?? '', /MP3/);
  const sps = published[1]!.rtp.find(([track]) => track === 0)![1].subarray(12);
  assert.deepEqual(sps, SPS.high1080p, 'the new SPS goes in-band too');
});

test('sender reports: at the first packet of each track, then every 5 s; both tracks map to one wall clock', () => {
  const { bridge, published, feed } = harness();
  bridge.onTag(9, 0, videoConfigTag());
  bridge.onTag(8, 0, audioConfigTag());
  feed(12);
  const rtcp = published[0]!.rtcp;
  assert.deepEqual(
    rtcp.map(([track]) => track),
    [0, 1, 0, 1, 0, 1],
  );
  const sr = rtcp.map(([track, p]) => {
    assert.equal(p[1], 200);
    assert.equal(p[29], 202, 'SDES follows the SR');
    const cname = p.toString('utf8', 38, 38 + p[37]!);
    const ntpMs = (p.readUInt32BE(8) - 2208988800) * 1000 + (p.readUInt32BE(12) / 2 ** 32) * 1000;
    return { track, cname, ntpMs, rtp: p.readUInt32BE(16), ssrc: p.readUInt32BE(4) };
  });
  assert.ok(sr.every((r) => r.cname === 'cupola/cam1'));
  const [v1, a1, v2, a2] = sr;
  // From one report to the next, each track's RTP time advances with its clock rate as the wall clock does.
  const wallS = (v2!.ntpMs - v1!.ntpMs) / 1000;
  assert.ok(wallS >= 5 && wallS < 5.1, `${wallS}`);
  assert.ok(Math.abs((v2!.rtp - v1!.rtp) / 90000 - wallS) < 0.05);
  assert.ok(Math.abs((a2!.rtp - a1!.rtp) / 48000 - (a2!.ntpMs - a1!.ntpMs) / 1000) < 0.05);
  assert.equal(sr[0]!.ssrc, published[0]!.rtp.find(([t]) => t === 0)![1].readUInt32BE(8));
  bridge.close();
});

test('a sink that stops taking packets ends the stream quietly; a publish that throws does not reach the caller', () => {
  let accept = true;
  const { bridge, published, feed, logs } = harness({ accept: () => accept });
  bridge.onTag(9, 0, videoConfigTag());
  feed(1, 0, 25, false);
  accept = false;
  feed(1, 1000, 25, false);
  assert.equal(bridge.stats().state, 'sink-closed');
  const count = published[0]!.rtp.length;
  feed(1, 2000, 25, false);
  assert.equal(published[0]!.rtp.length, count);
  assert.equal(logs.filter((l) => l.level === 'warn').length, 1);

  const failing = harness({ throws: true });
  failing.bridge.onTag(9, 0, videoConfigTag());
  failing.feed(1);
  assert.equal(failing.bridge.stats().state, 'failed');
  assert.equal(failing.logs.filter((l) => l.level === 'error').length, 1);
});

test('close() takes the path offline once; later tags are only counted', () => {
  const { bridge, published, feed } = harness();
  bridge.onTag(9, 0, videoConfigTag());
  feed(1);
  bridge.close();
  bridge.close();
  assert.equal(published[0]!.closed, true);
  const before = bridge.stats().video.frames;
  feed(1, 1000);
  assert.equal(bridge.stats().video.frames, before);
  assert.equal(bridge.stats().state, 'closed');
});

test('fuzz: 30,000 mutated tags into a live bridge never throw and never reach its error path', () => {
  const { bridge, published, logs } = harness();
  const seeds: [number, Buffer][] = [
    [9, videoConfigTag()],
    [9, videoFrameTag(true, [idr(2500)])],
    [9, videoFrameTag(false, [slice(300), slice(20)], 40)],
    [8, audioConfigTag()],
    [8, audioFrameTag(Buffer.alloc(300, 1))],
  ];
  for (const [type, body] of seeds) bridge.onTag(type, 0, body);
  const random = lcg(42);
  for (let i = 0; i < 30_000; i++) {
    const [type, seed] = seeds[random() % seeds.length]!;
    let body: Buffer = Buffer.from(seed);
    for (let m = random() % 3; m >= 0; m--) body[random() % body.length] = random() & 0xff;
    if (random() % 3 === 0) body = body.subarray(0, random() % (body.length + 1));
    bridge.onTag(random() % 10 === 0 ? random() & 0xff : type, (i * 20 + (random() % 50)) >>> 0, body);
  }
  assert.deepEqual(
    logs.filter((l) => l.level === 'error'),
    [],
  );
  assert.ok(published.length >= 1);
  for (const p of published) for (const [, packet] of p.rtp) assert.ok(packet.length <= 12 + 1200);
});
