import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isPublic } from '../../../app/api/auth-hook.js';
import { previewScopeOf } from '../../../app/api/routes/previews.js';
import { MultipartViewer, type PartSink } from '../../../app/media/mjpeg/multipart.js';
import { parsePreviewName } from '../../../app/media/preview/sources.js';

test('preview names: f1|f2 then 1-8 safe segments', () => {
  assert.deepEqual(parsePreviewName('f1/cam1'), { feed: 'f1', path: 'cam1' });
  assert.deepEqual(parsePreviewName('f2/site1/cam-1.main_x'), { feed: 'f2', path: 'site1/cam-1.main_x' });
  for (const bad of [
    'f3/cam1',
    'f1',
    'f1/',
    'f1//cam',
    'f1/../cam',
    'f1/.cam',
    'f1/c am',
    'f1/a/b/c/d/e/f/g/h/i',
    'F1/cam',
  ]) {
    assert.equal(parsePreviewName(bad), null, bad);
  }
});

test('the stream a preview URL is about (the scope of its signed token)', () => {
  assert.equal(previewScopeOf('/hls/f1/site1/cam1/index.m3u8'), 'f1/site1/cam1');
  assert.equal(previewScopeOf('/hls/f1/cam1/seg12.m4s'), 'f1/cam1');
  assert.equal(previewScopeOf('/mjpeg/f2/cam1'), 'f2/cam1');
  assert.equal(previewScopeOf('/snapshot/f2/site1/cam1.jpg'), 'f2/site1/cam1');
  assert.equal(previewScopeOf('/snapshot/f2/cam1'), null);
  assert.equal(previewScopeOf('/hls/f1/index.m3u8'), null);
  assert.equal(previewScopeOf('/api/v1/node'), null);
  assert.equal(previewScopeOf('/mjpeg/f1/%E0%A4%A'), null);
});

test('preview paths are never public, unlike the UI files next to them', () => {
  for (const p of ['/hls/f1/cam1/index.m3u8', '/mjpeg/f1/cam1', '/snapshot/f1/cam1.jpg', '/hls', '/mjpeg/'])
    assert.equal(isPublic('GET', p), false, p);
  assert.equal(isPublic('GET', '/index.html'), true);
  assert.equal(isPublic('GET', '/hlsfoo.js'), true);
});

test('an MJPEG viewer skips an image while an image of bytes is still queued', () => {
  let queued = 0;
  const written: Buffer[] = [];
  const sink: PartSink = {
    write: (b) => {
      written.push(b);
      return true;
    },
    end: () => {},
    get writableLength() {
      return queued;
    },
    destroyed: false,
  };
  const v = new MultipartViewer(sink);
  const img = Buffer.alloc(1000, 1);
  assert.equal(v.offer(img), true);
  queued = 400; // the tail of the last part: the next image still goes
  assert.equal(v.offer(img), true);
  queued = 1000; // a whole image waiting: skip
  assert.equal(v.offer(img), false);
  assert.deepEqual(v.counters(), { sent: 2, skipped: 1, queuedBytes: 1000 });
  const part = written[0]!.toString('latin1');
  assert.match(part, /^--cupola-mjpeg-frame\r\nContent-Type: image\/jpeg\r\nContent-Length: 1000\r\n\r\n/);
  assert.ok(part.endsWith('\r\n'));
  assert.equal(written[0]!.length, part.indexOf('\r\n\r\n') + 4 + 1000 + 2);
});
