/** URL checks and masking of relay streams. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkUrl, maskText, maskUrl } from '../../../app/relay/urls.js';

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
  assert.equal(maskUrl('rtmp://h/live/x?key=abc&q=1'), 'rtmp://h/live/x?key=***&q=1');
  assert.equal(
    maskText('Error opening rtsp://admin:secret@cam/x and rtmp://u:p@h/live/y: 404'),
    'Error opening rtsp://admin:***@cam/x and rtmp://u:***@h/live/y: 404',
  );
  assert.doesNotMatch(maskUrl('not a url rtsp://a:b@'), /:b@/);
});
