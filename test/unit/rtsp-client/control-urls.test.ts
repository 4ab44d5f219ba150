/** Control URLs of a DESCRIBE answer and the SDP published for the tracks that were set up. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseSdp, type SessionDescription } from '../../../app/media/rtsp/sdp.js';
import {
  aggregateUrl,
  baseUrl,
  publishSdp,
  resolveControl,
  usableInRequest,
  withoutCredentials,
} from '../../../app/media/rtsp-client/control-urls.js';

const SDP = [
  'v=0',
  'o=- 1 1 IN IP4 10.0.0.5',
  's=cam',
  't=0 0',
  'a=control:*',
  'm=video 0 RTP/AVP 96',
  'a=rtpmap:96 H265/90000',
  'a=control:trackID=1',
  'm=application 0 RTP/AVP 107',
  'a=rtpmap:107 vnd.onvif.metadata/90000',
  'a=control:rtsp://10.0.0.5/s/meta',
  'm=audio 0 RTP/AVP 97',
  'a=rtpmap:97 opus/48000/2',
  'a=control:trackID=2',
  '',
].join('\r\n');

function sdp(): SessionDescription {
  const parsed = parseSdp(SDP);
  assert.ok(!('error' in parsed));
  return parsed;
}

test('the base is Content-Base, else Content-Location, else the request URL; credentials are dropped', () => {
  const url = 'rtsp://10.0.0.5/s';
  const h = (entries: Array<[string, string]>) => new Map(entries);
  assert.equal(baseUrl(h([['content-base', 'rtsp://u:p@10.0.0.5/s/']]), url), 'rtsp://10.0.0.5/s/');
  assert.equal(baseUrl(h([['content-location', 'rtsp://10.0.0.5/loc/']]), url), 'rtsp://10.0.0.5/loc/');
  assert.equal(baseUrl(h([['content-base', '/rel/']]), url), 'rtsp://10.0.0.5/rel/', 'relative to the request');
  assert.equal(baseUrl(h([['content-base', 'http://x/']]), url), url, 'not rtsp: ignored');
  assert.equal(baseUrl(h([]), url), url);
  assert.equal(withoutCredentials('rtsp://admin:secret@10.0.0.5:554/a?b=1'), 'rtsp://10.0.0.5:554/a?b=1');
  assert.equal(withoutCredentials('not a url'), '(invalid URL)');
});

test('relative controls are appended to the base, absolute ones kept, * and empty mean the base', () => {
  assert.equal(resolveControl('rtsp://h/s/', 'trackID=1'), 'rtsp://h/s/trackID=1');
  assert.equal(resolveControl('rtsp://h/s', 'trackID=1'), 'rtsp://h/s/trackID=1');
  assert.equal(resolveControl('rtsp://h/cam?ch=1', 'track1'), 'rtsp://h/cam?ch=1/track1', 'as ffmpeg does');
  assert.equal(resolveControl('rtsp://h/s/', 'rtsp://other/x'), 'rtsp://other/x');
  assert.equal(resolveControl('rtsp://h/s/', '*'), 'rtsp://h/s/');
  assert.equal(resolveControl('rtsp://h/s/', ''), 'rtsp://h/s/');
  assert.equal(aggregateUrl(sdp(), 'rtsp://h/s/'), 'rtsp://h/s/');
  assert.equal(usableInRequest('rtsp://h/a b'), false);
  assert.equal(usableInRequest('rtsp://h/a\rb'), false);
  assert.equal(usableInRequest('rtsp://h/ok'), true);
});

test('the published SDP keeps the session lines and the chosen sections, in order, and parses again', () => {
  const text = publishSdp(sdp(), [0, 2]);
  const again = parseSdp(text);
  assert.ok(!('error' in again), text);
  assert.deepEqual(
    again.media.map((m) => [m.index, m.codec, m.clockRate]),
    [
      [0, 'H265', 90000],
      [1, 'opus', 48000],
    ],
  );
  assert.ok(text.startsWith('v=0\r\n') && text.endsWith('\r\n'));
});
