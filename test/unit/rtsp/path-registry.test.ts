/** Publisher restarts: the registry keeps a path's readers for a grace period and resumes it with a compatible SDP. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { silentLogger } from '../../../app/log/logger.js';
import { PathRegistry } from '../../../app/media/rtsp/path-registry.js';
import { canContinue, parseSdp, type SessionDescription } from '../../../app/media/rtsp/sdp.js';
import type { PathSource, ReaderSink } from '../../../app/media/rtsp/stream-path.js';
import { TypedEmitter } from '../../../app/media/rtsp/typed-emitter.js';
import type { RtspServerEvents } from '../../../app/media/rtsp/types.js';

function sdp(videoFmtp = 'packetization-mode=1; sprop-parameter-sets=Z0LAHtkA,aM4='): SessionDescription {
  const text = [
    'v=0',
    'o=- 123 1 IN IP4 127.0.0.1',
    's=cam',
    't=0 0',
    'm=video 0 RTP/AVP 96',
    'b=AS:2000',
    'a=rtpmap:96 H264/90000',
    `a=fmtp:96 ${videoFmtp}`,
    'a=control:streamid=0',
    'm=audio 0 RTP/AVP 97',
    'a=rtpmap:97 MPEG4-GENERIC/48000/1',
    'a=control:streamid=1',
  ].join('\r\n');
  return parseSdp(text) as SessionDescription;
}

function source(name: string): PathSource & { kicked: string[] } {
  const kicked: string[] = [];
  return { remote: name, transport: 'tcp', kick: (r) => void kicked.push(r), kicked };
}

function reader(): ReaderSink & { closed: string[] } {
  const closed: string[] = [];
  return {
    remote: 'r',
    transport: 'tcp',
    sendRtp: () => true,
    sendRtcp: () => undefined,
    close: (reason) => void closed.push(reason),
    closed,
  };
}

function registry(graceMs: number) {
  const events = new TypedEmitter<RtspServerEvents>((type, err) =>
    assert.fail(`listener of ${type} threw: ${String(err)}`),
  );
  const seen: string[] = [];
  events.on('path-online', (e) => seen.push(`online ${e.path}${e.resumed ? ' resumed' : ''}`));
  events.on('path-offline', (e) => seen.push(`offline ${e.path}`));
  return { reg: new PathRegistry(events, silentLogger(), graceMs), seen };
}

test('canContinue: same codecs and parameters continue; ports, bandwidth, controls and fmtp spacing do not matter', () => {
  const a = sdp();
  const b = parseSdp(
    [
      'v=0',
      'o=- 999 2 IN IP4 10.0.0.1',
      's=other',
      'm=video 5000 RTP/AVP 96',
      'a=rtpmap:96 H264/90000',
      'a=fmtp:96 packetization-mode=1;sprop-parameter-sets=Z0LAHtkA,aM4=',
      'a=control:trackID=0',
      'm=audio 5002 RTP/AVP 97',
      'a=rtpmap:97 MPEG4-GENERIC/48000/1',
      'a=control:trackID=1',
    ].join('\r\n'),
  ) as SessionDescription;
  assert.ok(canContinue(a, b));
  assert.ok(!canContinue(a, sdp('packetization-mode=1; sprop-parameter-sets=Z2QAKKzZ,aOvj')), 'other parameter sets');
  const h265 = parseSdp(
    'v=0\r\nm=video 0 RTP/AVP 96\r\na=rtpmap:96 H265/90000\r\nm=audio 0 RTP/AVP 97\r\na=rtpmap:97 MPEG4-GENERIC/48000/1',
  ) as SessionDescription;
  assert.ok(!canContinue(a, h265), 'other codec');
  const videoOnly = parseSdp('v=0\r\nm=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000') as SessionDescription;
  assert.ok(!canContinue(a, videoOnly), 'other track count');
});

test('a publisher that comes back within the grace period keeps the readers; stats show the path waiting', () => {
  const { reg, seen } = registry(60_000);
  const first = source('first');
  const path = reg.publish('cam', sdp(), first);
  const r = reader();
  path.addReader(r);
  reg.unpublish(path, first, 'publisher left');
  assert.equal(reg.get('cam'), undefined, 'new readers get 404 meanwhile');
  assert.deepEqual(
    reg.stats().map((s) => [s.path, s.publisher, s.readers]),
    [['cam', null, 1]],
  );
  const second = source('second');
  assert.equal(reg.publish('cam', sdp(), second), path);
  assert.equal(path.readerCount, 1);
  assert.deepEqual(r.closed, []);
  assert.equal(reg.stats()[0]!.publishers, 2);
  assert.deepEqual(seen, ['online cam', 'offline cam', 'online cam resumed']);
  reg.closeAll('stop');
  assert.deepEqual(r.closed, ['stop']);
});

test('the grace period ends: readers are closed; a path without readers closes at once', async () => {
  const { reg } = registry(50);
  const s = source('s');
  const path = reg.publish('cam', sdp(), s);
  const r = reader();
  path.addReader(r);
  reg.unpublish(path, s, 'publisher left');
  await new Promise((res) => setTimeout(res, 120));
  assert.equal(r.closed.length, 1);
  assert.match(r.closed[0]!, /did not come back within 50 ms/);
  assert.deepEqual(reg.stats(), []);
  const lonely = reg.publish('other', sdp(), s);
  reg.unpublish(lonely, s, 'left');
  assert.ok(lonely.isClosed);
});

test('a publisher with other codecs replaces the path: the old readers are closed, not fed a stream they cannot decode', () => {
  const { reg } = registry(60_000);
  const s = source('s');
  const path = reg.publish('cam', sdp(), s);
  const r = reader();
  path.addReader(r);
  const other = source('other');
  const next = reg.publish('cam', sdp('packetization-mode=1; sprop-parameter-sets=Z2QAKKzZ,aOvj'), other);
  assert.notEqual(next, path);
  assert.ok(path.isClosed);
  assert.equal(r.closed.length, 1);
  assert.deepEqual(s.kicked, ['replaced by a new publisher']);
});

test('a take-over of a live path kicks the old source, keeps the readers, and ignores the old source’s late leave', () => {
  const { reg, seen } = registry(60_000);
  const s = source('s');
  const path = reg.publish('cam', sdp(), s);
  const r = reader();
  path.addReader(r);
  const t = source('t');
  assert.equal(reg.publish('cam', sdp(), t), path);
  assert.deepEqual(s.kicked, ['replaced by a new publisher']);
  reg.unpublish(path, s, 'the kicked connection closes');
  assert.equal(reg.get('cam'), path, 'still online with the new source');
  assert.equal(path.source, t);
  assert.deepEqual(seen, ['online cam']);
  assert.deepEqual(r.closed, []);
});
