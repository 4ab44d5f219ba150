/** URL checks and masking of relay streams. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkUrl, unmaskUrl } from '../../../app/relay/urls.js';
import { maskData, maskText, maskUrl } from '../../../app/log/mask.js';

test('good URLs pass', () => {
  for (const url of [
    'rtsp://10.0.0.5:554/Streaming/Channels/101',
    'rtsps://cam.example.com/live',
    'rtsp://admin:p%40ss@cam.local/cam/realmonitor?channel=1&subtype=0',
    'rtsp://[fe80::1]:8554/x',
  ])
    assert.deepEqual(checkUrl('rtsp_url', url), [], url);
  for (const url of ['rtmp://a.rtmp.youtube.com/live2/abcd-efgh', 'rtmps://live.example.com:443/app/key?token=1'])
    assert.deepEqual(checkUrl('rtmp_url', url), [], url);
});

test('bad URLs are refused with the field and the reason', () => {
  const cases: Array<[Parameters<typeof checkUrl>[0], unknown, RegExp]> = [
    ['rtsp_url', '', /rtsp_url: expected a URL/],
    ['rtsp_url', 42, /rtsp_url: expected a URL/],
    ['rtsp_url', 'http://cam/x', /expected a rtsp or rtsps URL, got http:\/\//],
    ['rtsp_url', 'cam/x', /got no scheme/],
    ['rtsp_url', 'rtsp:///x', /has no host/],
    ['rtsp_url', 'rtsp://cam:0/x', /port must be 1-65535/],
    ['rtsp_url', 'rtsp://cam:99999/x', /not a valid URL/],
    ['rtsp_url', 'rtsp://cam:/x', /empty port/],
    ['rtsp_url', 'rtsp://ca_m/x', /not a host name/],
    ['rtsp_url', 'rtsp://cam/x#y', /fragment/],
    ['rtsp_url', 'rtsp://:pw@cam/x', /password without a user/],
    ['rtsp_url', 'rtsp://u:%zz@cam/x', /malformed percent-encoding/],
    ['rtsp_url', 'rtsp://cam/a b', /whitespace/],
    ['rtsp_url', 'rtsp://cam/x\n', /control characters/],
    ['rtmp_url', 'rtmp://host/live/x;touch /tmp/p', /whitespace/],
    ['rtmp_url', 'rtmp://host/live/x;reboot', /contains ";"/],
    ['rtmp_url', 'rtmp://host/live/$(id)', /contains "\$"/],
    ['rtmp_url', 'rtmp://host/live/`id`', /contains "`"/],
    ['rtmp_url', 'rtmp://host/live/x|nc', /contains "\|"/],
    ['rtmp_url', 'rtmp://host/live/a&b', /"&" outside the query/],
    ['rtmp_url', 'rtmp://host/live', /expected a path \/<app>\/<stream name>/],
    ['rtmp_url', 'rtsp://host/live/x', /expected a rtmp or rtmps URL/],
    ['rtmp_url', 'file:///etc/passwd', /expected a rtmp or rtmps URL/],
    ['rtmp_url', `rtmp://host/live/${'x'.repeat(3000)}`, /longer than 2048/],
  ];
  for (const [kind, url, why] of cases) {
    const errors = checkUrl(kind, url);
    assert.ok(errors.length > 0, `refused: ${String(url).slice(0, 60)}`);
    assert.ok(errors.every((e) => e.startsWith(`${kind}: `)));
    assert.match(errors.join('; '), why, String(url).slice(0, 60));
  }
});

test('credentials are masked as rtsp://admin:***@...', () => {
  assert.equal(maskUrl('rtsp://admin:secret@10.0.0.5:554/x'), 'rtsp://admin:***@10.0.0.5:554/x');
  assert.equal(maskUrl('rtsp://10.0.0.5/x'), 'rtsp://10.0.0.5/x');
  assert.equal(maskUrl('rtsp://cam/x?key=abc&q=1'), 'rtsp://cam/x?key=***&q=1');
  assert.equal(
    maskText('Error opening rtsp://admin:secret@cam/x and rtmp://u:p@h/live/y: 404'),
    'Error opening rtsp://admin:***@cam/x and rtmp://u:***@h/live/***: 404',
  );
  assert.doesNotMatch(maskUrl('not a url rtsp://a:b@'), /:b@/);
});

test('rtmp stream keys (the last path segment after the app) and secret query values are masked', () => {
  const cases: Array<[string, string]> = [
    ['rtmp://live.example.com/app/sk-9f8e7d6c', 'rtmp://live.example.com/app/***'],
    ['rtmps://live.example.com:443/app/sk-9f8e7d6c', 'rtmps://live.example.com:443/app/***'],
    ['rtmp://a.rtmp.youtube.com/live2/abcd-efgh-ijkl', 'rtmp://a.rtmp.youtube.com/live2/***'],
    ['rtmp://host/app/instance/sk-1/', 'rtmp://host/app/instance/***/'],
    ['rtmp://host/live/cam?key=SECRET', 'rtmp://host/live/***?key=***'],
    ['rtmp://host/live/cam?token=T0k&quality=hd', 'rtmp://host/live/***?token=***&quality=hd'],
    [
      'rtmp://u:pw@host/live/cam?streamKey=A&access_token=B&sign=C&auth=D&password=E&secret=F&x=1',
      'rtmp://u:***@host/live/***?streamKey=***&access_token=***&sign=***&auth=***&password=***&secret=***&x=1',
    ],
    ['rtmp://host/live', 'rtmp://host/live'], // no stream key in the path
    ['rtsp://cam/Streaming/Channels/101', 'rtsp://cam/Streaming/Channels/101'], // only rtmp paths carry keys
  ];
  for (const [url, masked] of cases) {
    assert.equal(maskUrl(url), masked, url);
    assert.equal(maskText(`url ${url} here`), `url ${masked} here`, `in text: ${url}`);
    assert.equal(maskUrl(masked), masked, `idempotent: ${masked}`);
  }
  // ffmpeg's own lines: the key is followed by ": ", a quote or a bracket.
  assert.equal(
    maskText(
      "[rtmp @ 0x5] Server error: [rtmp://h:1935/live/sk-123]\nrtmp://h/live/sk-123: I/O error 'rtmp://h/app/sk-123'",
    ),
    "[rtmp @ 0x5] Server error: [rtmp://h:1935/live/***]\nrtmp://h/live/***: I/O error 'rtmp://h/app/***'",
  );
  assert.doesNotMatch(maskText('RTMPS://H/LIVE/sk-123?KEY=abc'), /sk-123|abc/);
});

test('event data: JSON is masked value by value, escaped slashes included', () => {
  const data = '{"rtmp_url":"rtmp:\\/\\/h\\/live\\/sk-77","rtsp_url":"rtsp:\\/\\/a:pw@cam\\/x","timestamp":1}';
  const masked = maskData(data);
  assert.doesNotMatch(masked, /sk-77|pw@/);
  assert.deepEqual(JSON.parse(masked), { rtmp_url: 'rtmp://h/live/***', rtsp_url: 'rtsp://a:***@cam/x', timestamp: 1 });
  assert.equal(maskData('{"timestamp":1}'), '{"timestamp":1}', 'nothing to mask: stored as received');
  assert.equal(maskData('{not json rtmp://h/live/sk-77'), '{not json rtmp://h/live/***');
});

test('a masked URL sent back keeps the stored secrets; a mask that cannot be restored is refused', () => {
  const stored = 'rtmp://u:pw@live.example.com/app/sk-9f8e?key=K1&x=1';
  const shown = maskUrl(stored);
  assert.equal(shown, 'rtmp://u:***@live.example.com/app/***?key=***&x=1');
  assert.deepEqual(unmaskUrl('rtmp_url', shown, stored), { url: stored, errors: [] }, 'sent back unchanged');
  // Edited around the secrets: they are kept.
  const edited = unmaskUrl('rtmp_url', 'rtmp://u:***@live.example.com/app/***?key=***&x=2', stored);
  assert.deepEqual(edited, { url: 'rtmp://u:pw@live.example.com/app/sk-9f8e?key=K1&x=2', errors: [] });
  const password = unmaskUrl('rtsp_url', 'rtsp://admin:***@cam:554/other', 'rtsp://admin:s3cret@cam:554/x');
  assert.deepEqual(password, { url: 'rtsp://admin:s3cret@cam:554/other', errors: [] });
  assert.deepEqual(unmaskUrl('rtmp_url', 'rtmp://h/live/new-key', stored), {
    url: 'rtmp://h/live/new-key',
    errors: [],
  });
  // Never restored: no stored URL, another server (the secret would go to it), another user, app or parameter.
  const refused: Array<[string, string | null, RegExp]> = [
    ['rtmp://h/app/***', null, /stream key is masked \(\*\*\*\) and there is no stored URL/],
    ['rtmp://u:***@other.example.com/app/***?key=***&x=1', stored, /password .* another server/],
    ['rtmp://u:pw@live.example.com:1936/app/***', stored, /stream key .* another server/],
    ['rtmps://u:pw@live.example.com/app/***', stored, /stream key .* another server/],
    ['rtmp://v:***@live.example.com/app/sk-9f8e?key=K1', stored, /password .* another user/],
    ['rtmp://u:pw@live.example.com/app2/***', stored, /stream key .* another app path/],
    ['rtmp://u:pw@live.example.com/app/sk-9f8e?token=***', stored, /value of "token" .* has no "token"/],
    ['rtsp://admin:***@cam/x', 'rtsp://cam/x', /password .* another user/],
  ];
  for (const [url, was, why] of refused) {
    const r = unmaskUrl(url.startsWith('rtsp') ? 'rtsp_url' : 'rtmp_url', url, was);
    assert.match(r.errors.join('; '), why, url);
    assert.equal(r.url, url, 'nothing restored');
    assert.ok(
      r.errors.every((e) => !/pw|sk-9f8e|K1/.test(e.replace(url, ''))),
      'no secret in the error',
    );
  }
  // Not a mask: a real value that merely contains stars, or a stored URL without secrets.
  assert.deepEqual(unmaskUrl('rtmp_url', 'rtmp://h/live/a***b', null), { url: 'rtmp://h/live/a***b', errors: [] });
});
