/** FLV tag bodies → typed results: H.264 and AAC configurations and frames, everything else typed, never a throw. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  parseAudioSpecificConfig,
  parseFlvTag,
  splitNalus,
  type AacConfig,
  type FlvTag,
} from '../../../app/media/bridge/flv-tags.js';
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

function kind<K extends FlvTag['kind']>(tag: FlvTag, expected: K): Extract<FlvTag, { kind: K }> {
  assert.equal(tag.kind, expected, JSON.stringify(tag));
  return tag as Extract<FlvTag, { kind: K }>;
}

test('AVC sequence header: SPS, PPS and NAL length size from the configuration record', () => {
  const tag = kind(parseFlvTag(9, videoConfigTag([SPS.high640x360], [PPS], 4)), 'avc-config');
  assert.equal(tag.config.lengthSize, 4);
  assert.deepEqual(tag.config.sps, [SPS.high640x360]);
  assert.deepEqual(tag.config.pps, [PPS]);
  const two = kind(parseFlvTag(9, videoConfigTag([SPS.high640x360], [PPS, PPS], 2)), 'avc-config');
  assert.equal(two.config.lengthSize, 2);
  assert.equal(two.config.pps.length, 2);
  // Trailing high-profile extension bytes are allowed and ignored.
  const ext = Buffer.concat([videoConfigTag(), Buffer.from([0xfd, 0xf8, 0xf8, 0])]);
  assert.equal(parseFlvTag(9, ext).kind, 'avc-config');
});

test('AVC frames: key frame flag, signed 24-bit composition time, the NALU bytes', () => {
  const key = kind(parseFlvTag(9, videoFrameTag(true, [idr(10)], 80)), 'avc-frame');
  assert.equal(key.keyframe, true);
  assert.equal(key.cts, 80);
  assert.equal(key.data.length, 14);
  const inter = kind(parseFlvTag(9, videoFrameTag(false, [slice(10)], -40)), 'avc-frame');
  assert.equal(inter.keyframe, false);
  assert.equal(inter.cts, -40);
  assert.equal(parseFlvTag(9, Buffer.from([0x17, 2, 0, 0, 0])).kind, 'avc-end');
  assert.equal(parseFlvTag(9, Buffer.from([0x57, 0])).kind, 'ignored'); // video command frame
  assert.equal(parseFlvTag(18, Buffer.from('onMetaData')).kind, 'ignored');
});

test('other video codecs, enhanced RTMP and malformed AVC are typed results', () => {
  assert.match(kind(parseFlvTag(9, Buffer.from([0x12, 1, 2])), 'unsupported').reason, /Sorenson H.263/);
  assert.match(kind(parseFlvTag(9, Buffer.from([0x1c, 0, 0, 0, 0])), 'unsupported').reason, /HEVC/);
  const hevc = Buffer.concat([Buffer.from([0x90]), Buffer.from('hvc1'), Buffer.alloc(20)]);
  assert.match(kind(parseFlvTag(9, hevc), 'unsupported').reason, /enhanced RTMP video \(hvc1\)/);
  assert.equal(parseFlvTag(9, Buffer.alloc(0)).kind, 'invalid');
  assert.equal(parseFlvTag(9, Buffer.from([0x17, 1, 0])).kind, 'invalid');
  assert.equal(parseFlvTag(9, Buffer.from([0x17, 0, 0, 0, 0, 1, 0x64])).kind, 'invalid');
  assert.equal(parseFlvTag(9, Buffer.from([0x17, 7, 0, 0, 0, 1])).kind, 'invalid');
  assert.equal(parseFlvTag(9, videoConfigTag([SPS.high640x360], [])).kind, 'invalid');
  assert.equal(parseFlvTag(9, videoConfigTag([SPS.high640x360], [PPS], 3)).kind, 'invalid');
  // An "SPS" that is not NAL type 7 is rejected rather than put into the SDP.
  assert.equal(parseFlvTag(9, videoConfigTag([PPS], [PPS])).kind, 'invalid');
  assert.equal(parseFlvTag(7, Buffer.alloc(4)).kind, 'invalid');
});

test('NALU splitting with 4-, 2- and 1-byte lengths; a length past the end is undefined', () => {
  for (const size of [4, 2, 1]) {
    const tag = kind(parseFlvTag(9, videoFrameTag(true, [idr(100), slice(7)], 0, size)), 'avc-frame');
    const nalus = splitNalus(tag.data, size);
    assert.deepEqual(nalus, [idr(100), slice(7)]);
  }
  assert.equal(splitNalus(Buffer.from([0, 0, 0, 5, 1, 2]), 4), undefined);
  assert.equal(splitNalus(Buffer.from([0, 0]), 4), undefined);
  assert.deepEqual(splitNalus(Buffer.from([0, 0, 0, 0, 0, 0, 0, 1, 0x41]), 4), [Buffer.from([0x41])]);
});

test('AAC: AudioSpecificConfig → object type, rate, channels, frame length, codec string', () => {
  const lc = kind(parseFlvTag(8, audioConfigTag(Buffer.from([0x11, 0x90]))), 'aac-config').config;
  assert.deepEqual(pick(lc), { objectType: 2, sampleRate: 48000, channels: 2, frameSamples: 1024, codec: 'mp4a.40.2' });
  assert.equal(lc.asc.toString('hex'), '1190');
  const mono = parseAudioSpecificConfig(asc({ objectType: 2, rateIndex: 4, channels: 1 })) as AacConfig;
  assert.deepEqual(pick(mono), {
    objectType: 2,
    sampleRate: 44100,
    channels: 1,
    frameSamples: 1024,
    codec: 'mp4a.40.2',
  });
  const f960 = parseAudioSpecificConfig(Buffer.from([0x11, 0x94])) as AacConfig;
  assert.equal(f960.frameSamples, 960);
  // Explicit SBR: 24 kHz core, 48 kHz output; a frame is 2048 output samples.
  const he = parseAudioSpecificConfig(asc({ objectType: 5, rateIndex: 6, channels: 2, extRateIndex: 3 })) as AacConfig;
  assert.deepEqual(pick(he), { objectType: 5, sampleRate: 48000, channels: 2, frameSamples: 2048, codec: 'mp4a.40.5' });
  const seven1 = parseAudioSpecificConfig(asc({ objectType: 2, rateIndex: 3, channels: 7 })) as AacConfig;
  assert.equal(seven1.channels, 8);
  const frame = kind(parseFlvTag(8, audioFrameTag(Buffer.from([0x21, 0x10, 0x05]))), 'aac-frame');
  assert.deepEqual([...frame.data], [0x21, 0x10, 0x05]);
});

test('other audio formats, enhanced RTMP audio and malformed AAC are typed results', () => {
  assert.match(kind(parseFlvTag(8, Buffer.from([0x2f, 0xff])), 'unsupported').reason, /MP3/);
  assert.match(kind(parseFlvTag(8, Buffer.from([0x72, 0])), 'unsupported').reason, /G.711 A-law/);
  const opus = Buffer.concat([Buffer.from([0x90]), Buffer.from('Opus')]);
  assert.match(kind(parseFlvTag(8, opus), 'unsupported').reason, /enhanced RTMP audio \(Opus\)/);
  assert.equal(parseFlvTag(8, Buffer.alloc(0)).kind, 'invalid');
  assert.equal(parseFlvTag(8, Buffer.from([0xaf])).kind, 'invalid');
  assert.equal(parseFlvTag(8, Buffer.from([0xaf, 1])).kind, 'invalid');
  assert.equal(parseFlvTag(8, Buffer.from([0xaf, 2, 0])).kind, 'invalid');
  assert.equal(parseFlvTag(8, audioConfigTag(Buffer.from([0x11]))).kind, 'invalid');
  assert.equal(parseFlvTag(8, audioConfigTag(Buffer.from([0x07, 0x90]))).kind, 'invalid'); // object type 0
  assert.equal(parseFlvTag(8, audioConfigTag(Buffer.from([0x17, 0x90]))).kind, 'invalid'); // rate index 14
});

test('fuzz: 60,000 random and mutated tag bodies never throw and always give a known kind', () => {
  const kinds = new Set<string>(['avc-config', 'avc-frame', 'avc-end', 'aac-config', 'aac-frame', 'ignored']);
  kinds.add('unsupported').add('invalid');
  const seeds: Buffer[] = [
    videoConfigTag(),
    videoConfigTag([SPS.high1080p, SPS.baseline720p], [PPS, PPS], 2),
    videoFrameTag(true, [idr(300), slice(20)]),
    videoFrameTag(false, [slice(50)], -33, 1),
    audioConfigTag(),
    audioConfigTag(asc({ objectType: 5, rateIndex: 6, channels: 2, extRateIndex: 3 })),
    audioFrameTag(Buffer.alloc(40, 0x21)),
  ];
  const random = lcg(0xc0ffee);
  const seen = new Map<string, number>();
  for (let i = 0; i < 60_000; i++) {
    let body: Buffer;
    if (i % 3 === 0) {
      body = Buffer.from(Array.from({ length: random() % 64 }, () => random() & 0xff));
      if (body.length > 0 && i % 2 === 0) body[0] = [0x17, 0x27, 0xaf, 0x90][random() % 4]!;
    } else {
      body = Buffer.from(seeds[random() % seeds.length]!);
      for (let m = random() % 4; m >= 0; m--) body[random() % body.length] = random() & 0xff;
      if (random() % 2) body = body.subarray(0, random() % (body.length + 1));
    }
    const type = [8, 9, 18, random() & 0xff][random() % 4]!;
    const tag = parseFlvTag(type, body);
    assert.ok(kinds.has(tag.kind), tag.kind);
    seen.set(tag.kind, (seen.get(tag.kind) ?? 0) + 1);
    if (tag.kind === 'avc-frame') for (const size of [1, 2, 4]) splitNalus(tag.data, size);
    parseAudioSpecificConfig(body);
  }
  // The mutations reach both the happy paths and the error paths.
  for (const k of ['avc-config', 'avc-frame', 'aac-config', 'aac-frame', 'unsupported', 'invalid']) {
    assert.ok((seen.get(k) ?? 0) > 100, `${k}: ${JSON.stringify([...seen])}`);
  }
});

function pick(c: AacConfig) {
  const { objectType, sampleRate, channels, frameSamples, codec } = c;
  return { objectType, sampleRate, channels, frameSamples, codec };
}
