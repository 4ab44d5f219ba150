import assert from 'node:assert/strict';
import { test } from 'node:test';
import { rewritePlaylist } from '../../../app/media/hls/playlist.js';

const FFMPEG_PLAYLIST = [
  '#EXTM3U',
  '#EXT-X-VERSION:7',
  '#EXT-X-TARGETDURATION:1',
  '#EXT-X-MEDIA-SEQUENCE:17',
  '#EXT-X-INDEPENDENT-SEGMENTS',
  '#EXT-X-MAP:URI="init.mp4"',
  '#EXTINF:1.000000,',
  '#EXT-X-PROGRAM-DATE-TIME:2025-01-01T00:00:00.000+0000',
  'seg17.m4s',
  '#EXTINF:1.000000,',
  'seg18.m4s',
  '',
].join('\n');

test('the signed query goes on every segment URI and on the init section; a HOLD-BACK follows the target duration', () => {
  const out = rewritePlaylist(FFMPEG_PLAYLIST, { query: 't=abc%2B', holdBackS: 1.5 });
  assert.match(out, /^#EXT-X-MAP:URI="init\.mp4\?t=abc%2B"$/m);
  assert.match(out, /^seg17\.m4s\?t=abc%2B$/m);
  assert.match(out, /^seg18\.m4s\?t=abc%2B$/m);
  assert.match(out, /^#EXT-X-TARGETDURATION:1\n#EXT-X-SERVER-CONTROL:HOLD-BACK=1\.500$/m);
  assert.match(out, /^#EXT-X-PROGRAM-DATE-TIME:2025-01-01T00:00:00\.000\+0000$/m, 'tags untouched');
});

test('without a query or hold-back the playlist is unchanged', () => {
  assert.equal(rewritePlaylist(FFMPEG_PLAYLIST, { query: null, holdBackS: null }), FFMPEG_PLAYLIST);
});
