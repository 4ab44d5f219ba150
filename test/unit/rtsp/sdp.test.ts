/** SDP handling: media sections, codecs, control rewriting and track lookup for publishers and readers. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  MAX_TRACKS,
  codecLabels,
  findPublisherTrack,
  findReaderTrack,
  parseSdp,
  readerSdp,
  type SessionDescription,
} from '../../../app/media/rtsp/sdp.js';

/** What ffmpeg ANNOUNCEs for H.264 + AAC. */
const FFMPEG_SDP = [
  'v=0',
  'o=- 0 0 IN IP4 127.0.0.1',
  's=No Name',
  'c=IN IP4 127.0.0.1',
  't=0 0',
  'a=tool:libavformat 59.27.100',
  'm=video 0 RTP/AVP 96',
  'a=rtpmap:96 H264/90000',
  'a=fmtp:96 packetization-mode=1; sprop-parameter-sets=Z2QAHqzZQKAv+XARAAADAAEAAAMAMg8WLZY=,aOvjyyLA; profile-level-id=64001E',
  'a=control:streamid=0',
  'm=audio 0 RTP/AVP 97',
  'b=AS:128',
  'a=rtpmap:97 MPEG4-GENERIC/48000/1',
  'a=fmtp:97 profile-level-id=1;mode=AAC-hbr;sizelength=13;indexlength=3;indexdeltalength=3; config=119056E500',
  'a=control:streamid=1',
  '',
].join('\r\n');

function parsed(text: string): SessionDescription {
  const sdp = parseSdp(text);
  assert.ok(!('error' in sdp), JSON.stringify(sdp));
  return sdp;
}

test('parses media, codecs and clock rates; H.265, Opus and static payload types too', () => {
  const sdp = parsed(FFMPEG_SDP);
  assert.deepEqual(codecLabels(sdp), ['H264/90000', 'MPEG4-GENERIC/48000']);
  assert.deepEqual(
    sdp.media.map((m) => m.control),
    ['streamid=0', 'streamid=1'],
  );
  const other = parsed(
    'v=0\nm=video 0 RTP/AVP 98\na=rtpmap:98 H265/90000\nm=audio 0 RTP/AVP 111\na=rtpmap:111 opus/48000/2\nm=audio 0 RTP/AVP 0\n',
  );
  assert.deepEqual(codecLabels(other), ['H265/90000', 'opus/48000', 'PCMU/8000']);
});

test('rejects what is not a usable SDP', () => {
  assert.match((parseSdp('hello') as { error: string }).error, /v=0/);
  assert.match((parseSdp('v=0\r\ns=x\r\n') as { error: string }).error, /no media/);
  const many = `v=0\n${'m=video 0 RTP/AVP 96\n'.repeat(MAX_TRACKS + 1)}`;
  assert.match((parseSdp(many) as { error: string }).error, /more than/);
});

test('the reader SDP keeps everything but rewrites controls to trackID=N and a session-level *', () => {
  const out = readerSdp(parsed(FFMPEG_SDP));
  assert.ok(out.endsWith('\r\n'));
  const lines = out.split('\r\n');
  assert.deepEqual(
    lines.filter((l) => l.startsWith('a=control:')),
    ['a=control:*', 'a=control:trackID=0', 'a=control:trackID=1'],
  );
  assert.ok(
    lines.includes(
      'a=fmtp:97 profile-level-id=1;mode=AAC-hbr;sizelength=13;indexlength=3;indexdeltalength=3; config=119056E500',
    ),
  );
  assert.ok(lines.indexOf('a=control:trackID=0') < lines.indexOf('m=audio 0 RTP/AVP 97'));
});

test('publisher SETUP URLs match relative, absolute or missing controls; reader URLs match trackID=N', () => {
  const sdp = parsed(FFMPEG_SDP);
  assert.equal(findPublisherTrack(sdp, 'streamid=1', '/cam1/streamid=1'), 1);
  assert.equal(findPublisherTrack(sdp, 'streamid=7', '/cam1/streamid=7'), -1);
  const absolute = parsed('v=0\nm=video 0 RTP/AVP 96\na=control:rtsp://cam.local/live/track1\n');
  assert.equal(findPublisherTrack(absolute, 'track1', '/live/track1'), 0);
  const bare = parsed('v=0\nm=video 0 RTP/AVP 96\n');
  assert.equal(findPublisherTrack(bare, '', '/cam1'), 0);
  assert.equal(findReaderTrack(sdp, 'trackID=1'), 1);
  assert.equal(findReaderTrack(sdp, 'trackID=2'), -1);
  assert.equal(findReaderTrack(sdp, ''), -1, 'the aggregate URL of a multi-track path is no track');
  assert.equal(findReaderTrack(bare, ''), 0);
});
