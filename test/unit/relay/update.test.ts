/** The seed's url_update message. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isUrlUpdate, parseTimestamp, parseUrlUpdate } from '../../../app/relay/update.js';
import { parseProbe } from '../../../app/relay/probe.js';

test('timestamps: ISO 8601, epoch seconds or milliseconds', () => {
  assert.equal(parseTimestamp('2026-03-01T10:00:00Z'), Date.UTC(2026, 2, 1, 10));
  assert.equal(parseTimestamp(1_772_359_200), 1_772_359_200_000);
  assert.equal(parseTimestamp(1_772_359_200_123), 1_772_359_200_123);
  assert.equal(parseTimestamp('1772359200'), 1_772_359_200_000);
  assert.equal(parseTimestamp('yesterday'), null);
  assert.equal(parseTimestamp(-1), null);
});

test('a url_update parses; stream_id and restart_required are optional', () => {
  const data = JSON.stringify({ rtsp_url: 'rtsp://c/x', rtmp_url: null, timestamp: '2026-03-01T10:00:00Z' });
  assert.deepEqual(parseUrlUpdate(data), {
    ok: true,
    update: {
      streamId: null,
      rtspUrl: 'rtsp://c/x',
      rtmpUrl: null,
      timestampMs: Date.UTC(2026, 2, 1, 10),
      restartRequired: true,
    },
  });
  const other = parseUrlUpdate(
    JSON.stringify({ stream_id: 'cam-2', rtmp_url: 'rtmp://h/a/b', timestamp: 5, restart_required: false }),
  );
  assert.ok(other.ok && other.update.streamId === 'cam-2' && !other.update.restartRequired);
  assert.ok(isUrlUpdate('url_update', '{}'));
  assert.ok(isUrlUpdate('message', '{"type": "url_update"}'));
  assert.ok(!isUrlUpdate('message', '{"type": "hello"}'));
});

test('malformed updates name the problem', () => {
  const cases: Array<[string, RegExp]> = [
    ['{nope', /data is not JSON/],
    ['[]', /data: /],
    ['{"rtsp_url": 5, "timestamp": 1}', /rtsp_url: /],
    ['{"rtsp_url": "rtsp://c/x"}', /timestamp: /],
    ['{"rtsp_url": "rtsp://c/x", "timestamp": "soon"}', /timestamp: expected ISO 8601/],
    ['{"timestamp": 1}', /expected rtsp_url, rtmp_url or both/],
    ['{"stream_id": "../x", "rtsp_url": "rtsp://c/x", "timestamp": 1}', /stream_id: /],
  ];
  for (const [data, why] of cases) {
    const r = parseUrlUpdate(data);
    assert.equal(r.ok, false, data);
    if (!r.ok) assert.match(r.error, why, data);
  }
});

test("ffprobe's answer: codecs and size; no video is refused", () => {
  const out = JSON.stringify({
    streams: [
      { codec_type: 'video', codec_name: 'h264', width: 640, height: 360 },
      { codec_type: 'audio', codec_name: 'aac' },
    ],
  });
  assert.deepEqual(parseProbe(out), {
    ok: true,
    info: { video: { codec: 'h264', width: 640, height: 360 }, audio: { codec: 'aac' } },
  });
  assert.deepEqual(parseProbe('{"streams":[{"codec_type":"audio","codec_name":"aac"}]}'), {
    ok: false,
    error: 'the source has no video stream',
  });
  assert.equal(parseProbe('garbage').ok, false);
});
